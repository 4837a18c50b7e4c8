namespace Klp.Build.Elf;

/// <summary>Checks that an <see cref="ElfFile"/> can be written: every reference stays inside the file.</summary>
internal static class ElfVerifier
{
    public static List<string> Verify(ElfFile file)
    {
        var faults = new List<string>();
        var e = file.Encoding;
        bool Mine(ElfSection? s) => s is null || s.File == file;

        if (file.SectionNames is { } names && names.File != file)
            faults.Add($"the section name table ({names.Name}) is not a section of this file");
        if (file.SectionNames is null && file.Sections.FirstOrDefault(s => s.Name.Length > 0) is { } named)
            faults.Add($"{named} has a name but the file has no section name table (SectionNames)");

        foreach (var section in file.Sections)
        {
            if (section.Name.Contains('\0')) faults.Add($"{section} has a NUL character in its name");
            if (!Mine(section.Link)) faults.Add($"{section} links to {section.Link}, which is not in this file");
            if (!Mine(section.InfoSection)) faults.Add($"{section} has sh_info {section.InfoSection}, which is not in this file");
            if (section.Alignment > 1 && (section.Alignment & (section.Alignment - 1)) != 0)
                faults.Add($"{section} has alignment {section.Alignment}, not a power of two");

            switch (section)
            {
                case ElfSymbolTable table:
                    VerifySymbols(file, table, faults);
                    break;
                case ElfRelocationTable relocations:
                    VerifyRelocations(e, relocations, faults);
                    break;
                case ElfSymbolIndexTable { SymbolTable: null }:
                    faults.Add($"{section} (extended section indices) does not link to a symbol table");
                    break;
                case ElfGroupSection group:
                    if (group.Link is not ElfSymbolTable groupSymbols)
                        faults.Add($"{section} (group) does not link to a symbol table");
                    else if (group.Signature is not null && group.Signature.Table != groupSymbols)
                        faults.Add($"{section} (group) has signature symbol '{group.Signature.Name}', which is not in {groupSymbols}");
                    foreach (var member in group.Members.Where(m => !Mine(m) || m is null))
                        faults.Add($"{section} (group) lists {member}, which is not in this file");
                    break;
            }
            if (faults.Count > 20) break;
        }
        return faults;
    }

    private static void VerifySymbols(ElfFile file, ElfSymbolTable table, List<string> faults)
    {
        if (table.Strings is null)
        {
            faults.Add($"{table} (symbol table) does not link to a string table");
            return;
        }
        var needsExtended = false;
        foreach (var symbol in table.Symbols)
        {
            if (symbol.Section is { } s && s.File != file)
                faults.Add($"symbol '{symbol.Name}' of {table} is defined in {s}, which is not in this file");
            else if (symbol.Section is { Index: >= ElfSectionIndex.LoReserve }) needsExtended = true;
            if (symbol.Name.Contains('\0')) faults.Add($"symbol '{symbol.Name}' of {table} has a NUL character in its name");
            if (faults.Count > 20) return;
        }
        if (needsExtended && !file.Sections.OfType<ElfSymbolIndexTable>().Any(x => x.SymbolTable == table))
            faults.Add($"{table} has symbols in sections numbered 0xff00 or above but no SHT_SYMTAB_SHNDX section for it");
    }

    private static void VerifyRelocations(ElfEncoding e, ElfRelocationTable relocations, List<string> faults)
    {
        if (relocations.SymbolTable is not { } table)
        {
            faults.Add($"{relocations} (relocations) does not link to a symbol table");
            return;
        }
        for (var i = 0; i < relocations.Entries.Count; i++)
        {
            var entry = relocations.Entries[i];
            if (entry.Symbol is { } symbol && symbol.Table != table)
            {
                faults.Add($"relocation {i} of {relocations} uses symbol '{symbol.Name}', which is not in its symbol table {table}");
                if (faults.Count > 20) return;
            }
            if (!e.Is64 && entry.Type > 0xff) faults.Add($"relocation {i} of {relocations} has type {entry.Type}, too big for ELF32");
        }
        if (!e.Is64 && table.Symbols.Count > 0xffffff)
            faults.Add($"{table} has more symbols than ELF32 relocations can address");
    }
}
