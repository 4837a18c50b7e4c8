using System.Text.RegularExpressions;
using Klp.Build.Processes;

namespace Klp.Build.Tests.Support;

public sealed record BuildDiagnostic(string File, int Line, int Column, string Severity, string Code, string Message);

public sealed partial record BuildResult(int ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;

    [GeneratedRegex(@"^\s*(?:\d+(?::\d+)?>)?(?<file>[^\s(][^(\n]*?)(?:\((?<line>\d+)(?:,(?<column>\d+))?\))?\s*:\s*(?<severity>error|warning) (?<code>[A-Z]+\d+)\s*:\s*(?<message>.*?)(?: \[[^\]]+\])?$", RegexOptions.Multiline)]
    private static partial Regex DiagnosticLine();

    public IReadOnlyList<BuildDiagnostic> Diagnostics =>
        DiagnosticLine().Matches(Output)
            .Select(m => new BuildDiagnostic(m.Groups["file"].Value.Trim(),
                m.Groups["line"].Success ? int.Parse(m.Groups["line"].Value) : 0,
                m.Groups["column"].Success ? int.Parse(m.Groups["column"].Value) : 0,
                m.Groups["severity"].Value, m.Groups["code"].Value, m.Groups["message"].Value.Trim()))
            .Distinct().ToList();

    public IReadOnlyList<BuildDiagnostic> Errors => Diagnostics.Where(d => d.Severity == "error").ToList();
    public IReadOnlyList<BuildDiagnostic> Warnings => Diagnostics.Where(d => d.Severity == "warning").ToList();

    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

/// <summary>Runs the real dotnet CLI on a project, as a user would, against the SDK package just packed.</summary>
public static class DotnetBuild
{
    public static BuildResult Run(string projectPath, params string[] arguments) =>
        Run(projectPath, arguments, environment: null);

    public static BuildResult Run(string projectPath, IEnumerable<string> arguments, IDictionary<string, string?>? environment,
        string verb = "build", TimeSpan? timeout = null)
    {
        SdkPackage.EnsurePacked();
        var env = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = SdkPackage.PackagesFolder,
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };
        if (environment is not null) foreach (var (key, value) in environment) env[key] = value;
        var result = ProcessRunner.Run("dotnet",
            [verb, projectPath, "-nodeReuse:false", "--disable-build-servers", "-clp:NoSummary", .. arguments],
            Path.GetDirectoryName(projectPath), env, timeout ?? TimeSpan.FromMinutes(15));
        return new BuildResult(result.ExitCode, result.StandardOutput + result.StandardError);
    }
}
