namespace Klp.Build.Dwarf;

/// <summary>
/// One unit of .debug_info (or .debug_types): its header, abbreviations, and what its root DIE says about the
/// rest (bases for strx/addrx/rnglistx, line table, base address, names).
/// </summary>
internal sealed class DwarfUnit
{
    public int Index { get; init; }
    public bool InTypesSection { get; init; }

    /// <summary>Offset of the unit header in its section.</summary>
    public ulong Offset { get; init; }

    /// <summary>Offset just past the unit.</summary>
    public ulong End { get; init; }

    /// <summary>Offset of the root DIE.</summary>
    public ulong FirstDie { get; init; }

    public int Version { get; init; }
    public byte UnitType { get; init; }
    public int AddressSize { get; init; }
    public int OffsetSize { get; init; }
    public ulong AbbrevOffset { get; init; }
    public ulong TypeSignature { get; init; }
    public ulong TypeOffset { get; init; }

    // Filled from the root DIE by DwarfFile.Prepare.
    public DwarfAbbrevTable? Abbrevs { get; set; }
    public ulong StrOffsetsBase { get; set; }
    public ulong AddrBase { get; set; }
    public ulong RnglistsBase { get; set; }
    public ulong BaseAddress { get; set; }
    public ulong? StmtList { get; set; }
    public ushort RootTag { get; set; }
    public string Name { get; set; } = "";
    public string CompDir { get; set; } = "";
    public string Producer { get; set; } = "";

    /// <summary>File names of the unit's line table (index as DW_AT_decl_file/call_file use it); null until read.</summary>
    public string[]? Files { get; set; }

    /// <summary>Set when the unit could not be prepared: its DIEs are not read.</summary>
    public bool Broken { get; set; }

    public bool Contains(ulong offset) => offset >= FirstDie && offset < End;

    public override string ToString() => $"unit at 0x{Offset:x} ({Name})";
}
