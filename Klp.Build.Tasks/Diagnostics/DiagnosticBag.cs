namespace Klp.Build.Diagnostics;

/// <summary>Collects diagnostics so libraries report user-caused problems without throwing.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;
    public bool HasErrors => _items.Any(d => d.IsError);

    public void Add(Diagnostic diagnostic) => _items.Add(diagnostic);

    public void Error(string code, string message, string? file = null, int line = 0, int column = 0) =>
        _items.Add(new Diagnostic(code, DiagnosticSeverity.Error, message, file, line, column));

    public void Warning(string code, string message, string? file = null, int line = 0, int column = 0) =>
        _items.Add(new Diagnostic(code, DiagnosticSeverity.Warning, message, file, line, column));

    public void AddRange(IEnumerable<Diagnostic> diagnostics) => _items.AddRange(diagnostics);
}
