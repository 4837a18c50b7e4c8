using System.Text.Json.Serialization;

namespace Klp.Build.Analysis;

[JsonConverter(typeof(JsonStringEnumConverter<SafetySeverity>))]
public enum SafetySeverity { Info, Warning, Error }

/// <summary>One thing the analysis found about a patched function, with the facts behind it.</summary>
/// <param name="Code">A stable KLP41xx code (<see cref="SafetyCodes"/>).</param>
/// <param name="Function">The request's function (as <see cref="PatchedFunctionRequest.ToString"/>).</param>
/// <param name="Message">One line: what is wrong and what to do.</param>
/// <param name="Details">The facts, by kind: "clones", "callers", "registers", "aliases", "candidates"... each a list of strings.</param>
public sealed record SafetyFinding(
    string Code,
    SafetySeverity Severity,
    string Function,
    string Message,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Details = null)
{
    /// <summary>"KLP4107 (error) …": not MSBuild's canonical "error CODE:" form, so the summary is not taken for a second diagnostic.</summary>
    public override string ToString() => $"{Code} ({Severity.ToString().ToLowerInvariant()}) {Message}";
}
