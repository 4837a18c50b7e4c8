using Klp.Build.Elf;

namespace Klp.Build.Symbols;

/// <summary>nm-style type letters: GNU nm's for vmlinux (what System.map shows), the kernel's for modules.</summary>
internal static class NmKind
{
    // binutils' coff_section_type table: only these section names override the flags (checked against System.map).
    private static readonly (string Prefix, char Kind)[] SectionNameKinds =
        [(".drectve", 'i'), (".edata", 'e'), (".idata", 'i'), (".pdata", 'p')];

    public static bool IsDebugSection(string name) =>
        name.StartsWith(".debug", StringComparison.Ordinal) || name.StartsWith(".zdebug", StringComparison.Ordinal)
        || name.StartsWith(".gnu.linkonce.wi.", StringComparison.Ordinal) || name.StartsWith(".line", StringComparison.Ordinal)
        || name.StartsWith(".stab", StringComparison.Ordinal);

    /// <summary>bfd_decode_symclass, as GNU nm prints it for a symbol of a linked ELF file.</summary>
    public static char OfExecutableSymbol(in ScannedSymbol symbol, ScannedSection? section)
    {
        var index = symbol.SectionIndex;
        if (index == ElfSectionIndex.Common) return 'C';
        if (index == ElfSectionIndex.Undefined)
            return symbol.Bind == ElfSymbolBind.Weak ? symbol.Type == ElfSymbolType.Object ? 'v' : 'w' : 'U';
        if (symbol.Type == ElfSymbolType.GnuIndirectFunction) return 'i';
        if (symbol.Bind == ElfSymbolBind.Weak) return symbol.Type == ElfSymbolType.Object ? 'V' : 'W';
        if (symbol.Bind == ElfSymbolBind.GnuUnique) return 'u';
        if (symbol.Bind is not (ElfSymbolBind.Local or ElfSymbolBind.Global)) return '?';
        char c;
        if (section is not { } s) c = 'a'; // SHN_ABS, and special indices bfd maps to the absolute section
        else
        {
            c = '?';
            foreach (var (prefix, kind) in SectionNameKinds)
                if (s.Name.StartsWith(prefix, StringComparison.Ordinal)
                    && (s.Name.Length == prefix.Length || s.Name[prefix.Length] is '.' or '$' or (>= '0' and <= '9')))
                {
                    c = kind;
                    break;
                }
            if (c == '?') c = DecodeSectionType(s);
        }
        return symbol.Bind == ElfSymbolBind.Global ? char.ToUpperInvariant(c) : c;
    }

    private static char DecodeSectionType(ScannedSection s)
    {
        var contents = s.Type != ElfSectionType.NoBits;
        var load = s.Flags.HasFlag(ElfSectionFlags.Alloc) && contents;
        var readOnly = !s.Flags.HasFlag(ElfSectionFlags.Write);
        if (s.Flags.HasFlag(ElfSectionFlags.ExecInstr)) return 't';
        if (load) return readOnly ? 'r' : 'd';
        if (!contents) return 'b';
        if (IsDebugSection(s.Name)) return 'N';
        return readOnly ? 'n' : '?';
    }

    /// <summary>kernel/module/kallsyms.c elf_type (upper case for global symbols, as nm prints them).</summary>
    public static char OfModuleSymbol(in ScannedSymbol symbol, ScannedSection[] sections, int percpuIndex)
    {
        var c = ModuleType(symbol, sections, percpuIndex);
        return symbol.Bind == ElfSymbolBind.Global ? char.ToUpperInvariant(c) : c;
    }

    private static char ModuleType(in ScannedSymbol symbol, ScannedSection[] sections, int percpuIndex)
    {
        if (symbol.Bind == ElfSymbolBind.Weak) return symbol.Type == ElfSymbolType.Object ? 'v' : 'w';
        var index = symbol.SectionIndex;
        if (index == ElfSectionIndex.Undefined) return 'U';
        if (index == ElfSectionIndex.Absolute || index == percpuIndex) return 'a';
        if (index >= ElfSectionIndex.LoReserve || index >= sections.Length) return '?';
        var s = sections[index];
        if (s.Flags.HasFlag(ElfSectionFlags.ExecInstr)) return 't';
        if (s.Flags.HasFlag(ElfSectionFlags.Alloc) && s.Type != ElfSectionType.NoBits) return s.Flags.HasFlag(ElfSectionFlags.Write) ? 'd' : 'r';
        if (s.Type == ElfSectionType.NoBits) return 'b';
        return s.Name.StartsWith(".debug", StringComparison.Ordinal) ? 'n' : '?';
    }
}
