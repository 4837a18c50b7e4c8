using System.Diagnostics;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Symbols;

namespace Klp.Build.Analysis;

/// <summary>
/// What the analysis knows of one object of the target kernel: its code (<see cref="ObjectCode"/>), its callers
/// index, and its symbols in the order the kernel counts sympos in (when a symbol map is at hand).
/// </summary>
public sealed class ObjectFacts(ObjectCode code, CallersIndex callers, SymbolMapObject? symbols = null)
{
    private Dictionary<string, List<FunctionSymbol>>? _byBaseName;

    public ObjectCode Code { get; } = code;
    public CallersIndex Callers { get; } = callers;
    public SymbolMapObject? Symbols { get; } = symbols;
    public string Name => Code.Name;

    /// <summary>Every function symbol whose name is &lt;baseName&gt; or a GCC clone of it, in address order.</summary>
    public IReadOnlyList<FunctionSymbol> Family(string baseName)
    {
        _byBaseName ??= Code.Functions.GroupBy(f => CloneNames.BaseName(f.Name), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        return _byBaseName.TryGetValue(baseName, out var list) ? list : [];
    }

    /// <summary>The occurrences of a name in sympos order, with the function symbol of each (null for a non-function occurrence).</summary>
    public IReadOnlyList<(int Position, ulong Address, FunctionSymbol? Function)> Occurrences(string name)
    {
        var functions = Code.Named(name);
        if (Symbols is not null && !Code.IsRelocatable)
            return Symbols.Occurrences(name)
                .Select(o => (o.Position, o.Symbol.Address, (FunctionSymbol?)functions.FirstOrDefault(f => f.Address == o.Symbol.Address)))
                .ToList();
        return functions.Select((f, i) => (i + 1, f.Address, (FunctionSymbol?)f)).ToList();
    }

    /// <summary>A module (relocatable object): the callers index is made on the spot (a module is small).</summary>
    public static ObjectFacts ForModule(ElfFile module, string name)
    {
        var code = ObjectCode.FromElf(module, name);
        return new ObjectFacts(code, CallersIndex.Build(code));
    }
}

/// <summary>The target kernel as the analysis sees it: vmlinux's facts, modules' on demand, and DWARF's when available.</summary>
public sealed class TargetFacts(string release, ObjectFacts vmlinux, IDwarfFacts? dwarf = null, Func<string, ObjectFacts?>? modules = null)
{
    private readonly Dictionary<string, ObjectFacts?> _modules = new(StringComparer.Ordinal);

    public string Release { get; } = release;
    public ObjectFacts Vmlinux { get; } = vmlinux;
    public IDwarfFacts Dwarf { get; } = dwarf ?? NullDwarfFacts.Instance;

    /// <summary>How long loading took, by step (read, callers index, symbols), for reports and benchmarks.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Timings { get; init; } = new Dictionary<string, TimeSpan>();

    public ObjectFacts? Object(string name)
    {
        if (name == KernelSymbolMap.Vmlinux) return Vmlinux;
        if (!_modules.TryGetValue(name, out var facts)) _modules[name] = facts = modules?.Invoke(name);
        return facts;
    }

    /// <summary>
    /// Loads vmlinux (the -dbg one: symbols and code): its code, its callers index (from <paramref name="cache"/>
    /// when given, made and stored there otherwise) and its kallsyms order (from <paramref name="kallsyms"/>, else
    /// read from the file). Null, with a diagnostic, when the file cannot be read.
    /// </summary>
    public static TargetFacts? LoadVmlinux(string release, string vmlinuxPath, DiagnosticBag diagnostics, CallersIndexCache? cache = null,
        SymbolMapObject? kallsyms = null, IDwarfFacts? dwarf = null, Func<string, ObjectFacts?>? modules = null, CancellationToken cancellationToken = default)
    {
        var timings = new Dictionary<string, TimeSpan>();
        var watch = Stopwatch.StartNew();
        var file = ElfReader.Read(vmlinuxPath, diagnostics);
        if (file is null) return null;
        if (file.SymbolTable is null)
        {
            diagnostics.Error(SafetyCodes.AnalysisIncomplete, $"{vmlinuxPath} has no symbol table: the safety analysis needs the vmlinux of linux-image-{release}-dbg (or a KernelDir's vmlinux).", vmlinuxPath);
            return null;
        }
        var code = ObjectCode.FromElf(file, KernelSymbolMap.Vmlinux);
        file = null;
        timings["read"] = watch.Elapsed;

        watch.Restart();
        var callers = cache is not null ? cache.GetOrCreate(vmlinuxPath, code, cancellationToken) : CallersIndex.Build(code, cancellationToken);
        timings["callers"] = watch.Elapsed;

        watch.Restart();
        if (kallsyms is null)
        {
            kallsyms = SymbolMapGenerator.ReadVmlinux(vmlinuxPath, KallsymsOptions.Default, out var error);
            if (kallsyms is null) diagnostics.Warning(SafetyCodes.AnalysisIncomplete, $"cannot read the kallsyms order of {vmlinuxPath} ({error}): positions are counted in address order.", vmlinuxPath);
        }
        timings["symbols"] = watch.Elapsed;
        return new TargetFacts(release, new ObjectFacts(code, callers, kallsyms), dwarf, modules) { Timings = timings };
    }
}
