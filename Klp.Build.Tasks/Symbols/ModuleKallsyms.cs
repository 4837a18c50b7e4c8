using Klp.Build.Elf;

namespace Klp.Build.Symbols;

/// <summary>
/// A module's symbols in the order module_kallsyms_on_each_symbol walks them once the module is live: its
/// .symtab order, filtered as kernel/module/kallsyms.c add_kallsyms builds core_kallsyms (is_core_symbol):
/// defined, named, below e_shnum (so no SHN_ABS), and either in the per-cpu section (with CONFIG_KALLSYMS_ALL)
/// or in a section the module keeps after init: SHF_ALLOC once the loader clears it on __versions, .modinfo
/// and .data..percpu, not laid out with init (.init*, and .exit* without CONFIG_MODULE_UNLOAD), and executable
/// unless CONFIG_KALLSYMS_ALL.
/// </summary>
public static class ModuleKallsyms
{
    internal static List<KernelSymbol> CoreSymbols(ScannedSection[] sections, ScannedSymbol[] symbols, KallsymsOptions options) =>
        CoreSymbols(sections, symbols, options, out _);

    /// <param name="unstableNames">
    /// Core names the kernel counts more often in the whole symbol table (every defined symbol), which is what
    /// mod->kallsyms holds until the module's init has run.
    /// </param>
    internal static List<KernelSymbol> CoreSymbols(ScannedSection[] sections, ScannedSymbol[] symbols, KallsymsOptions options, out HashSet<string> unstableNames)
    {
        var percpu = Array.FindIndex(sections, s => s.Name == ".data..percpu");
        var kept = new bool[sections.Length];
        for (var i = 1; i < sections.Length; i++)
        {
            var s = sections[i];
            kept[i] = s.Flags.HasFlag(ElfSectionFlags.Alloc)
                      && s.Name is not ("__versions" or ".modinfo" or ".data..percpu")
                      && (options.AllSymbols || s.Flags.HasFlag(ElfSectionFlags.ExecInstr))
                      && !s.Name.StartsWith(".init", StringComparison.Ordinal)
                      && (options.ModuleUnload || !s.Name.StartsWith(".exit", StringComparison.Ordinal));
        }
        var result = new List<KernelSymbol>(symbols.Length / 2);
        foreach (var symbol in symbols)
        {
            var index = symbol.SectionIndex;
            if (symbol.Index == 0 || index == ElfSectionIndex.Undefined || index >= sections.Length || symbol.Name.Length == 0) continue;
            if (!(options.AllSymbols && index == percpu) && !kept[index]) continue;
            result.Add(new KernelSymbol(symbol.Name, symbol.Value, NmKind.OfModuleSymbol(symbol, sections, percpu), sections[index].Name));
        }
        // Core symbols are a subsequence of the whole table, so equal counts mean equal positions.
        unstableNames = new HashSet<string>(StringComparer.Ordinal);
        if (result.Count == symbols.Length - 1) return result;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var symbol in result) counts[symbol.Name] = counts.GetValueOrDefault(symbol.Name) + 1;
        foreach (var symbol in symbols)
        {
            if (symbol.Index == 0 || symbol.SectionIndex == ElfSectionIndex.Undefined || !counts.TryGetValue(symbol.Name, out var count)) continue;
            counts[symbol.Name] = count - 1;
        }
        foreach (var (name, left) in counts)
            if (left < 0) unstableNames.Add(name);
        return result;
    }
}
