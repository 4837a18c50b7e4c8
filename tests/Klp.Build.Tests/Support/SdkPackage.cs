using Klp.Build.Processes;

namespace Klp.Build.Tests.Support;

/// <summary>
/// Packs the SDK once per test run into the local feed, and gives every nested build an isolated package
/// folder, so tests always exercise the SDK just built (NuGet caches packages by id and version).
/// </summary>
public static class SdkPackage
{
    private static readonly Lazy<string> Packed = new(Pack);

    public static string PackagesFolder => Path.Combine(RepositoryLayout.Root, "artifacts", "test-packages");

    public static void EnsurePacked() => _ = Packed.Value;

    private static string Pack()
    {
        var result = ProcessRunner.Run("dotnet",
            ["pack", Path.Combine(RepositoryLayout.Root, "Klp.Build.Sdk", "Klp.Build.Sdk.csproj"), "-c", "Release", "-nologo",
             "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            environment: new Dictionary<string, string?> { ["MSBUILDDISABLENODEREUSE"] = "1" },
            timeout: TimeSpan.FromMinutes(5));
        if (!result.Succeeded) throw new InvalidOperationException("packing Klp.Build.Sdk failed:\n" + result.StandardOutput + result.StandardError);
        var cached = Path.Combine(PackagesFolder, "klp.build.sdk");
        if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        return RepositoryLayout.Feed;
    }
}
