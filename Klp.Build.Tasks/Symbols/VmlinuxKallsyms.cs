using Klp.Build.Elf;

namespace Klp.Build.Symbols;

/// <summary>
/// vmlinux's symbols in the order kallsyms stores them, which is the order kallsyms_on_each_symbol (and so
/// the livepatch core's sympos count) walks. The kernel build makes that table in three steps, mirrored here:
/// <list type="number">
/// <item>scripts/mksysmap: <c>nm -n vmlinux</c> (undefined first, then by address, ties by name in the C
/// locale), without nm types a N U w and names starting with $, .L, __crc_, __kstrtab_, __kstrtabns_ or equal
/// to L0 (this is System.map);</item>
/// <item>scripts/kallsyms read_symbol: drops names of KSYM_NAME_LEN or more, its ignore lists, types U u N n
/// and absolute symbols except a few; without CONFIG_KALLSYMS_ALL, everything outside _stext.._etext and
/// _sinittext.._einittext;</item>
/// <item>scripts/kallsyms sort_symbols: by address, then non-weak before weak, then ordinary before names a
/// linker script may provide (__start_*, __stop_*, __end_*, *_start, *_end), then fewer leading underscores
/// first, then input order. With CONFIG_KALLSYMS_ABSOLUTE_PERCPU per-cpu symbols count as type A there.</item>
/// </list>
/// </summary>
public static class VmlinuxKallsyms
{
    private static readonly string[] MksysmapPrefixes = ["$", ".L", "__crc_", "__kstrtab_", "__kstrtabns_"];

    private static readonly HashSet<string> IgnoredSymbols = new(StringComparer.Ordinal)
    {
        "kallsyms_addresses", "kallsyms_offsets", "kallsyms_relative_base", "kallsyms_num_syms", "kallsyms_names",
        "kallsyms_markers", "kallsyms_token_table", "kallsyms_token_index", "kallsyms_seqs_of_names",
        "_SDA_BASE_", "_SDA2_BASE_",
    };

    private static readonly string[] IgnoredPrefixes =
    [
        "__efistub_", "__kvm_nvhe_$", "__kvm_nvhe_.L", "__AArch64ADRPThunk_", "__ARMV5PILongThunk_",
        "__ARMV7PILongThunk_", "__ThumbV7PILongThunk_", "__LA25Thunk_", "__microLA25Thunk_", "__kcfi_typeid_",
    ];

    private static readonly string[] IgnoredSuffixes = ["_from_arm", "_from_thumb", "_veneer"];
    private static readonly string[] IgnoredMatches = [".long_branch.", ".plt_branch."];
    private static readonly HashSet<string> KeptAbsolute = new(StringComparer.Ordinal)
        { "__kernel_syscall_via_break", "__kernel_syscall_via_epc", "__kernel_sigtramp", "__gp" };

    /// <summary>System.map's lines (address, nm type, name) as scripts/mksysmap writes them.</summary>
    internal static List<KernelSymbol> SystemMap(ScannedSection[] sections, ScannedSymbol[] symbols)
    {
        var debug = new bool[sections.Length];
        for (var i = 0; i < sections.Length; i++) debug[i] = NmKind.IsDebugSection(sections[i].Name);
        var listed = new (KernelSymbol Symbol, bool Undefined)[symbols.Length];
        var count = 0;
        foreach (var symbol in symbols)
        {
            if (symbol.Index == 0 || symbol.Type is ElfSymbolType.Section or ElfSymbolType.File || symbol.Name.Length == 0) continue;
            var index = symbol.SectionIndex;
            var inSection = index > 0 && index < ElfSectionIndex.LoReserve && index < sections.Length;
            if (inSection && debug[index]) continue; // nm hides debugging symbols
            var kind = NmKind.OfExecutableSymbol(symbol, inSection ? sections[index] : null);
            if (kind is 'a' or 'N' or 'U' or 'w' || IsDroppedByMksysmap(symbol.Name)) continue;
            listed[count++] = (new KernelSymbol(symbol.Name, symbol.Value, kind, inSection ? sections[index].Name : null), index == ElfSectionIndex.Undefined);
        }
        // nm -n: undefined symbols first, then by value, ties by name (LC_COLLATE=C in kbuild: strcmp).
        Array.Sort(listed, 0, count, Comparer<(KernelSymbol Symbol, bool Undefined)>.Create((a, b) =>
        {
            if (a.Undefined != b.Undefined) return a.Undefined ? -1 : 1;
            if (!a.Undefined && a.Symbol.Address != b.Symbol.Address) return a.Symbol.Address < b.Symbol.Address ? -1 : 1;
            return string.CompareOrdinal(a.Symbol.Name, b.Symbol.Name);
        }));
        var result = new List<KernelSymbol>(count);
        for (var i = 0; i < count; i++) result.Add(listed[i].Symbol);
        return result;
    }

    private static bool IsDroppedByMksysmap(string name)
    {
        if (name == "L0") return true;
        var c = name[0];
        if (c != '$' && c != '.' && c != '_') return false;
        foreach (var prefix in MksysmapPrefixes)
            if (name.StartsWith(prefix, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>kallsyms' table from System.map lines, in kallsyms order.</summary>
    public static List<KernelSymbol> FromSystemMap(IReadOnlyList<KernelSymbol> systemMap, KallsymsOptions options)
    {
        var table = new List<KernelSymbol>(systemMap.Count);
        ulong? stext = null, etext = null, sinittext = null, einittext = null, percpuStart = null, percpuEnd = null;
        foreach (var symbol in systemMap)
        {
            if (symbol.Name.Length >= options.MaxNameLength || IsIgnored(symbol.Name, symbol.Kind)) continue;
            switch (symbol.Name)
            {
                case "_stext": stext = symbol.Address; break;
                case "_etext": etext = symbol.Address; break;
                case "_sinittext": sinittext = symbol.Address; break;
                case "_einittext": einittext = symbol.Address; break;
                case "__per_cpu_start": percpuStart = symbol.Address; break;
                case "__per_cpu_end": percpuEnd = symbol.Address; break;
            }
            table.Add(symbol);
        }
        static bool In(ulong address, ulong? start, ulong? end) => start is { } s && end is { } e && address >= s && address <= e;
        if (!options.AllSymbols)
            table = table.FindAll(s =>
                (In(s.Address, stext, etext) || In(s.Address, sinittext, einittext))
                && !(s.Address == etext && s.Name != "_etext") && !(s.Address == einittext && s.Name != "_einittext"));

        // Sort keys up front: address, weak, may be provided by a linker script, leading underscores, input order.
        var entries = new (ulong Address, int Ties, int Position)[table.Count];
        for (var i = 0; i < table.Count; i++)
        {
            var symbol = table[i];
            var kind = options.AbsolutePercpu && In(symbol.Address, percpuStart, percpuEnd) ? 'A' : symbol.Kind;
            var ties = (IsWeak(kind) ? 1 << 20 : 0) | (MayBeLinkerScriptProvided(symbol.Name) ? 1 << 19 : 0) | Math.Min(LeadingUnderscores(symbol.Name), (1 << 19) - 1);
            entries[i] = (symbol.Address, ties, i);
        }
        Array.Sort(entries);
        var result = new List<KernelSymbol>(entries.Length);
        foreach (var entry in entries) result.Add(table[entry.Position]);
        return result;
    }

    private static bool IsIgnored(string name, char kind)
    {
        if (kind is 'U' or 'u' or 'N' or 'n') return true;
        if (kind is 'A' or 'a') return !KeptAbsolute.Contains(name);
        if (IgnoredSymbols.Contains(name)) return true;
        foreach (var p in IgnoredPrefixes) if (name.StartsWith(p, StringComparison.Ordinal)) return true;
        foreach (var p in IgnoredSuffixes) if (name.EndsWith(p, StringComparison.Ordinal)) return true;
        foreach (var p in IgnoredMatches) if (name.Contains(p, StringComparison.Ordinal)) return true;
        return false;
    }

    private static bool IsWeak(char kind) => kind is 'w' or 'W';

    private static bool MayBeLinkerScriptProvided(string name)
    {
        if (name.Length < 8 || !name.StartsWith("__", StringComparison.Ordinal)) return false;
        var rest = name.AsSpan(2);
        return rest.StartsWith("start_") || rest.StartsWith("stop_") || rest.StartsWith("end_")
               || name.EndsWith("_start", StringComparison.Ordinal) || name.EndsWith("_end", StringComparison.Ordinal);
    }

    private static int LeadingUnderscores(string name)
    {
        var i = 0;
        while (i < name.Length && name[i] == '_') i++;
        return i;
    }
}
