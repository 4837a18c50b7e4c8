using Klp.Build.Diagnostics;

namespace Klp.Build.Symbols;

/// <summary>One symbol of a kernel object, with its place in the kernel's own order.</summary>
/// <param name="Name">Symbol name as the symbol table has it (may contain '.', e.g. foo.isra.0).</param>
/// <param name="Address">Address (vmlinux) or section offset (module); 0 when unknown.</param>
/// <param name="Kind">nm-style type letter (T t D d B b R r W w ...), '?' when unknown.</param>
/// <param name="Section">Section name for module symbols, when known.</param>
public sealed record KernelSymbol(string Name, ulong Address = 0, char Kind = '?', string? Section = null);

/// <summary>A symbol of one object at its sympos: the N-th occurrence of its name (from 1) in kernel order.</summary>
public sealed record SymbolOccurrence(string Object, KernelSymbol Symbol, int Position, int Count)
{
    /// <summary>The sympos a relocation must carry: 0 for a name unique in its object.</summary>
    public int Sympos => Count == 1 ? 0 : Position;
}

/// <summary>The symbols of vmlinux or of one module, in the order the kernel counts sympos in.</summary>
/// <param name="name">"vmlinux" or the module's name.</param>
/// <param name="symbols">The symbols in kernel order (for a module: the core symbols a live module keeps).</param>
/// <param name="unstableNames">Module names the kernel counts differently while the module is still loading.</param>
public sealed class SymbolMapObject(string name, IReadOnlyList<KernelSymbol> symbols, IReadOnlyCollection<string>? unstableNames = null)
{
    private Dictionary<string, List<int>>? _byName;

    public string Name { get; } = name;
    public IReadOnlyList<KernelSymbol> Symbols { get; } = symbols;

    /// <summary>
    /// Names whose occurrences differ between a live module (core symbols only) and a module that is still
    /// loading (its whole symbol table, which is what the livepatch core searches when a patch meets a module
    /// loaded after it): an extra copy in .init*, a non-allocated section or an absolute symbol. A sympos for
    /// such a name would depend on load order. Empty for vmlinux.
    /// </summary>
    public IReadOnlySet<string> UnstableNames { get; } = unstableNames as IReadOnlySet<string> ?? new HashSet<string>(unstableNames ?? [], StringComparer.Ordinal);

    public IReadOnlyList<SymbolOccurrence> Occurrences(string symbol)
    {
        _byName ??= BuildIndex();
        if (!_byName.TryGetValue(symbol, out var indices)) return [];
        return indices.Select((index, i) => new SymbolOccurrence(Name, Symbols[index], i + 1, indices.Count)).ToList();
    }

    public bool Contains(string symbol)
    {
        _byName ??= BuildIndex();
        return _byName.ContainsKey(symbol);
    }

    private Dictionary<string, List<int>> BuildIndex()
    {
        var index = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < Symbols.Count; i++)
        {
            if (!index.TryGetValue(Symbols[i].Name, out var list)) index[Symbols[i].Name] = list = [];
            list.Add(i);
        }
        return index;
    }
}

/// <summary>
/// A target kernel's symbols: vmlinux (kallsyms order, by address) and every module (symbol-table order).
/// Reads and writes klp-convert's format: "klp-convert-symbol-data.0.1", then "*object" lines each followed by
/// that object's symbol names, one a line.
/// </summary>
public sealed class KernelSymbolMap(IReadOnlyList<SymbolMapObject> objects)
{
    public const string Header = "klp-convert-symbol-data.0.1";
    public const string Vmlinux = "vmlinux";

    private readonly Dictionary<string, SymbolMapObject> _byName = objects.ToDictionary(o => o.Name, StringComparer.Ordinal);

    public IReadOnlyList<SymbolMapObject> Objects { get; } = objects;

    public SymbolMapObject? Find(string objectName) => _byName.GetValueOrDefault(objectName);

    /// <summary>Every occurrence of a name in every object, objects in map order.</summary>
    public IReadOnlyList<SymbolOccurrence> FindEverywhere(string symbol) =>
        Objects.SelectMany(o => o.Occurrences(symbol)).ToList();

    public void Write(TextWriter writer)
    {
        writer.Write(Header);
        writer.Write('\n');
        foreach (var obj in Objects)
        {
            writer.Write('*');
            writer.Write(obj.Name);
            writer.Write('\n');
            foreach (var symbol in obj.Symbols)
            {
                writer.Write(symbol.Name);
                writer.Write('\n');
            }
        }
    }

    public void WriteFile(string path) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16);
        Write(writer);
    });

    public static KernelSymbolMap? Read(string path, DiagnosticBag diagnostics)
    {
        if (!File.Exists(path))
        {
            diagnostics.Error("KLP3010", $"symbol map {path} does not exist.", path);
            return null;
        }
        using var reader = new StreamReader(path);
        return Read(reader, path, diagnostics);
    }

    public static KernelSymbolMap? Read(TextReader reader, string name, DiagnosticBag diagnostics)
    {
        var header = reader.ReadLine();
        if (header != Header)
        {
            diagnostics.Error("KLP3010", $"{name} is not a klp-convert symbol map: its first line must be '{Header}'.", name, 1);
            return null;
        }
        var objects = new List<SymbolMapObject>();
        string? current = null;
        var symbols = new List<KernelSymbol>();
        var lineNumber = 1;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0) continue;
            if (line[0] == '*')
            {
                if (current is not null) objects.Add(new SymbolMapObject(current, symbols));
                current = line[1..];
                symbols = [];
            }
            else if (current is null)
            {
                diagnostics.Error("KLP3010", $"{name} lists symbol '{line}' before any '*object' line.", name, lineNumber);
                return null;
            }
            else symbols.Add(new KernelSymbol(line));
        }
        if (current is not null) objects.Add(new SymbolMapObject(current, symbols));
        return new KernelSymbolMap(objects);
    }
}
