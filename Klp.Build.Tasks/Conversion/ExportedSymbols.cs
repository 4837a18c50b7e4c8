using System.Globalization;
using Klp.Build.Diagnostics;

namespace Klp.Build.Conversion;

/// <summary>One exported symbol of the target kernel (a Module.symvers line).</summary>
/// <param name="Module">"vmlinux" or the exporting module's path without .ko (e.g. "fs/ext4/ext4").</param>
/// <param name="ExportType">EXPORT_SYMBOL, EXPORT_SYMBOL_GPL...</param>
/// <param name="Namespace">The symbol namespace, or null.</param>
public sealed record ExportedSymbol(string Name, string Module, string ExportType = "EXPORT_SYMBOL", string? Namespace = null, uint Crc = 0);

/// <summary>
/// The symbols the module loader resolves by itself (the target's Module.symvers): relocations to them stay
/// ordinary relocations.
/// </summary>
public sealed class ExportedSymbols
{
    private readonly Dictionary<string, ExportedSymbol> _byName = new(StringComparer.Ordinal);
    private readonly List<ExportedSymbol> _symbols = [];

    public static ExportedSymbols Empty => new();

    public IReadOnlyList<ExportedSymbol> Symbols => _symbols;

    public int Count => _symbols.Count;

    /// <summary>Adds a symbol (the first export of a name wins).</summary>
    public void Add(ExportedSymbol symbol)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        if (_byName.TryAdd(symbol.Name, symbol)) _symbols.Add(symbol);
    }

    public void Add(string name, string module = LivepatchNames.Vmlinux) => Add(new ExportedSymbol(name, module));

    public bool Contains(string name) => _byName.ContainsKey(name);

    public ExportedSymbol? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Reads a Module.symvers file; null (with KLP3011) when it cannot be read or is malformed.</summary>
    public static ExportedSymbols? ReadSymvers(string path, DiagnosticBag diagnostics)
    {
        try
        {
            using var reader = new StreamReader(path);
            return ParseSymvers(reader, path, diagnostics);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(ConversionCodes.SymversInvalid, $"cannot read Module.symvers '{path}': {e.Message}", path);
            return null;
        }
    }

    /// <summary>
    /// Parses Module.symvers: "crc\tsymbol\tmodule\texport_type\tnamespace" a line (namespace may be empty or,
    /// in old kernels, absent). Null (with KLP3011 naming the line) when a line is malformed.
    /// </summary>
    public static ExportedSymbols? ParseSymvers(TextReader reader, string name, DiagnosticBag diagnostics)
    {
        var result = new ExportedSymbols();
        var lineNumber = 0;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = line.Split('\t');
            var crcText = fields[0].StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? fields[0][2..] : fields[0];
            if (fields.Length < 3 || fields[1].Length == 0 ||
                !uint.TryParse(crcText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var crc))
            {
                diagnostics.Error(ConversionCodes.SymversInvalid,
                    $"{name} line {lineNumber} is not a Module.symvers line (expected 'crc<TAB>symbol<TAB>module<TAB>export type<TAB>namespace'): '{Shorten(line)}'",
                    name, lineNumber);
                return null;
            }
            var type = fields.Length > 3 && fields[3].Length > 0 ? fields[3] : "EXPORT_SYMBOL";
            var ns = fields.Length > 4 && fields[4].Length > 0 ? fields[4] : null;
            result.Add(new ExportedSymbol(fields[1], fields[2], type, ns, crc));
        }
        return result;
    }

    private static string Shorten(string line) => line.Length <= 80 ? line : line[..77] + "...";
}
