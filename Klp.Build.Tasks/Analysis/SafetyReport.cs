using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Klp.Build.Analysis;

/// <summary>The findings of one patched function.</summary>
public sealed record FunctionSafety(PatchedFunctionRequest Request, IReadOnlyList<SafetyFinding> Findings)
{
    [JsonIgnore] public bool IsClean => Findings.All(f => f.Severity == SafetySeverity.Info);
}

/// <summary>The safety analysis of one livepatch against one target kernel: machine-readable (JSON) and readable.</summary>
public sealed record SafetyReport(string Release, IReadOnlyList<FunctionSafety> Functions)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    [JsonIgnore] public IEnumerable<SafetyFinding> Findings => Functions.SelectMany(f => f.Findings);
    [JsonIgnore] public bool HasErrors => Findings.Any(f => f.Severity == SafetySeverity.Error);

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static SafetyReport? FromJson(string json) => JsonSerializer.Deserialize<SafetyReport>(json, Options);

    public void WriteJson(string path) => AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, this, Options));

    /// <summary>A readable summary: one block per function, one line per finding, the facts indented under it.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        var errors = Findings.Count(f => f.Severity == SafetySeverity.Error);
        var warnings = Findings.Count(f => f.Severity == SafetySeverity.Warning);
        text.Append($"Livepatch safety analysis for {Release}: {Functions.Count} function(s), {errors} error(s), {warnings} warning(s)\n");
        foreach (var function in Functions)
        {
            text.Append($"  {function.Request}{(function.Request.ReplacementName is { } r ? $" -> {r}" : "")}: {(function.IsClean ? "clean" : "")}\n");
            foreach (var finding in function.Findings)
            {
                text.Append($"    {finding}\n");
                foreach (var (kind, values) in finding.Details ?? new Dictionary<string, IReadOnlyList<string>>())
                {
                    const int shown = 12;
                    var list = string.Join(", ", values.Take(shown)) + (values.Count > shown ? $", ... ({values.Count} in all)" : "");
                    text.Append($"      {kind}: {list}\n");
                }
            }
        }
        return text.ToString();
    }
}
