namespace Klp.Build.Diagnostics;

/// <summary>Stops a library operation at a user-caused problem that makes going on pointless.</summary>
public sealed class DiagnosticException(Diagnostic diagnostic) : Exception(diagnostic.ToString())
{
    public Diagnostic Diagnostic { get; } = diagnostic;

    public static DiagnosticException Error(string code, string message, string? file = null) =>
        new(new Diagnostic(code, DiagnosticSeverity.Error, message, file));
}
