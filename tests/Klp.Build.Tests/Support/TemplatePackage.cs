using Klp.Build.Processes;

namespace Klp.Build.Tests.Support;

/// <summary>Packs the dotnet new templates once per test run into the local feed, next to the SDK.</summary>
public static class TemplatePackage
{
    private static readonly Lazy<string> Packed = new(Pack);

    public const string Id = "Klp.Build.Templates";

    /// <summary>The package in the local feed, after packing it from this repository.</summary>
    public static string EnsurePacked() => Packed.Value;

    private static string Pack()
    {
        var result = ProcessRunner.Run("dotnet",
            ["pack", Path.Combine(RepositoryLayout.Root, "templates", Id, Id + ".csproj"), "-c", "Release", "-nologo",
             "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            environment: new Dictionary<string, string?> { ["MSBUILDDISABLENODEREUSE"] = "1" },
            timeout: TimeSpan.FromMinutes(5));
        if (!result.Succeeded) throw new InvalidOperationException($"packing {Id} failed:\n" + result.StandardOutput + result.StandardError);
        var package = Path.Combine(RepositoryLayout.Feed, $"{Id}.{RepositoryLayout.SdkVersion}.nupkg");
        if (!File.Exists(package)) throw new InvalidOperationException($"packing {Id} wrote no {package}");
        return package;
    }
}
