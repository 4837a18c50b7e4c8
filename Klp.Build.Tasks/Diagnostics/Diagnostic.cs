namespace Klp.Build.Diagnostics;

public enum DiagnosticSeverity { Warning, Error }

/// <summary>A problem found in the user's input or environment, with a stable KLPnnnn code.</summary>
public sealed record Diagnostic(
    string Code,
    DiagnosticSeverity Severity,
    string Message,
    string? File = null,
    int Line = 0,
    int Column = 0)
{
    public bool IsError => Severity == DiagnosticSeverity.Error;

    public override string ToString()
    {
        var where = File is null ? "" : Line > 0 ? $"{File}({Line},{Column}): " : $"{File}: ";
        var kind = IsError ? "error" : "warning";
        return $"{where}{kind} {Code}: {Message}";
    }
}
