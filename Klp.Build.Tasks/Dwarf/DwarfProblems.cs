using Klp.Build.Diagnostics;

namespace Klp.Build.Dwarf;

/// <summary>
/// Thread-safe front of a <see cref="DiagnosticBag"/> for one file: units parsed in parallel report here, and
/// after <see cref="Limit"/> problems the rest are only counted (a damaged file must not flood the build log).
/// </summary>
internal sealed class DwarfProblems(DiagnosticBag bag, string file)
{
    public const int Limit = 50;
    private readonly object _gate = new();
    private int _count;

    public string File { get; } = file;
    public int Count => _count;

    public void Error(string code, string message) => Add(code, message, DiagnosticSeverity.Error);

    public void Warning(string code, string message) => Add(code, message, DiagnosticSeverity.Warning);

    private void Add(string code, string message, DiagnosticSeverity severity)
    {
        lock (_gate)
        {
            _count++;
            if (_count <= Limit) bag.Add(new Diagnostic(code, severity, message, File));
        }
    }

    /// <summary>Reports how many problems were left out, once, at the end.</summary>
    public void Finish()
    {
        lock (_gate)
        {
            if (_count > Limit)
                bag.Add(new Diagnostic(DwarfCodes.TooManyProblems, DiagnosticSeverity.Error,
                    $"{_count - Limit} more DWARF problems in this file were not listed one by one", File));
        }
    }
}

/// <summary>A DWARF structure is malformed; caught at the unit (or section) level and turned into a diagnostic.</summary>
internal sealed class DwarfFormatException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
