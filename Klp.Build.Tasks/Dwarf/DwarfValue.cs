namespace Klp.Build.Dwarf;

/// <summary>
/// One attribute value as read: the form (after DW_FORM_indirect) and a number whose meaning depends on it —
/// the constant, address or address index, section offset, string index, or for blocks, inline strings and
/// data16 the position of the bytes in the section being read (with <see cref="Length"/>).
/// </summary>
internal struct DwarfValue
{
    public ulong U;
    public ushort Form;
    public int Length;

    public readonly bool IsConstantClass => Form is DwForm.Data1 or DwForm.Data2 or DwForm.Data4 or DwForm.Data8
        or DwForm.Sdata or DwForm.Udata or DwForm.ImplicitConst;
}

/// <summary>The attributes of one DIE that the index uses; everything else is skipped.</summary>
internal struct DieAttributes
{
    public DwarfValue Name, LinkageName, Producer, CompDir, LowPc, HighPc, Ranges, EntryPc;
    public bool HasName, HasLinkageName, HasProducer, HasCompDir, HasLowPc, HasHighPc, HasRanges, HasEntryPc;
    public ulong DeclFile, DeclLine, CallFile, CallLine, UpperBound, Count, StmtList, StrOffsetsBase, AddrBase, RnglistsBase;
    public bool HasDeclFile, HasCallFile, HasUpperBound, HasCount, HasStmtList, HasStrOffsetsBase, HasAddrBase, HasRnglistsBase;
    /// <summary>References as <see cref="DwarfFile"/> DIE references (0 = none).</summary>
    public ulong Type, AbstractOrigin, Specification, Sibling;
    public bool External, Declaration, Artificial, HasLocation, HasConstValue, Prototyped;
    public byte Inline;
    public bool HasInline;
}
