using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Cli;

/// <summary>
/// The `klp` command as a user runs it: `dotnet klp.dll` from the build output (the test project references
/// Klp.Build.Cli), or the tool packed and installed from a feed into a tool path.
/// </summary>
public sealed record KlpTool(string FileName, IReadOnlyList<string> Prefix)
{
    public static KlpTool BuildOutput { get; } = new("dotnet", [Path.Combine(AppContext.BaseDirectory, "klp.dll")]);

    public ProcessResult Run(params string[] arguments) =>
        ProcessRunner.Run(FileName, [.. Prefix, .. arguments], timeout: TimeSpan.FromMinutes(20));

    /// <summary>`dotnet pack` into a fresh feed, `dotnet tool install --tool-path` from it (with an empty package cache): the tool as shipped.</summary>
    public static KlpTool Installed(string directory)
    {
        var feed = Path.Combine(directory, "feed");
        var toolPath = Path.Combine(directory, "tools");
        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(directory, "packages"), ["MSBUILDDISABLENODEREUSE"] = "1" };
        Check(ProcessRunner.Run("dotnet", ["pack", Path.Combine(RepositoryLayout.Root, "Klp.Build.Cli", "Klp.Build.Cli.csproj"), "-c", "Release", "-nologo",
            "-nodeReuse:false", "-p:UseSharedCompilation=false", "-o", feed], environment: environment, timeout: TimeSpan.FromMinutes(10)));
        Check(ProcessRunner.Run("dotnet", ["tool", "install", "Klp.Build.Cli", "--tool-path", toolPath, "--add-source", feed,
            "--version", RepositoryLayout.SdkVersion], workingDirectory: directory, environment: environment, timeout: TimeSpan.FromMinutes(5)));
        return new KlpTool(Path.Combine(toolPath, "klp"), []);
    }

    private static void Check(ProcessResult result)
    {
        if (!result.Succeeded) throw new InvalidOperationException(result.StandardOutput + result.StandardError);
    }
}
