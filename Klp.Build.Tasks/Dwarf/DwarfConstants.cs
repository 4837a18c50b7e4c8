namespace Klp.Build.Dwarf;

/// <summary>DW_TAG_* values the reader and index use (DWARF 5, section 7.5.3).</summary>
internal static class DwTag
{
    public const ushort ArrayType = 0x01, ClassType = 0x02, EnumerationType = 0x04, FormalParameter = 0x05,
        LexicalBlock = 0x0b, PointerType = 0x0f, ReferenceType = 0x10, CompileUnit = 0x11, StructureType = 0x13,
        SubroutineType = 0x15, Typedef = 0x16, UnionType = 0x17, UnspecifiedParameters = 0x18,
        InlinedSubroutine = 0x1d, PtrToMemberType = 0x1f, SubrangeType = 0x21, BaseType = 0x24, ConstType = 0x26,
        Subprogram = 0x2e, Variable = 0x34, VolatileType = 0x35, RestrictType = 0x37, Namespace = 0x39,
        PartialUnit = 0x3c, UnspecifiedType = 0x3b, TypeUnit = 0x41, RvalueReferenceType = 0x42,
        AtomicType = 0x47, SkeletonUnit = 0x4a;
}

/// <summary>DW_AT_* values the reader and index use.</summary>
internal static class DwAt
{
    public const ushort Sibling = 0x01, Location = 0x02, Name = 0x03, ByteSize = 0x0b, StmtList = 0x10, LowPc = 0x11,
        HighPc = 0x12, Language = 0x13, CompDir = 0x1b, ConstValue = 0x1c, Inline = 0x20, Producer = 0x25,
        Prototyped = 0x27, UpperBound = 0x2f, AbstractOrigin = 0x31, Artificial = 0x34, Count = 0x37,
        DeclFile = 0x3a, DeclLine = 0x3b, Declaration = 0x3c, External = 0x3f, Specification = 0x47, Type = 0x49,
        EntryPc = 0x52, Ranges = 0x55, CallFile = 0x58, CallLine = 0x59, LinkageName = 0x6e,
        StrOffsetsBase = 0x72, AddrBase = 0x73, RnglistsBase = 0x74, MipsLinkageName = 0x2007,
        GnuAddrBase = 0x2133, GnuRangesBase = 0x2132;
}

/// <summary>DW_FORM_* values (DWARF 5 plus the GNU extensions gcc and dwz emit).</summary>
internal static class DwForm
{
    public const ushort Addr = 0x01, Block2 = 0x03, Block4 = 0x04, Data2 = 0x05, Data4 = 0x06, Data8 = 0x07,
        String = 0x08, Block = 0x09, Block1 = 0x0a, Data1 = 0x0b, Flag = 0x0c, Sdata = 0x0d, Strp = 0x0e,
        Udata = 0x0f, RefAddr = 0x10, Ref1 = 0x11, Ref2 = 0x12, Ref4 = 0x13, Ref8 = 0x14, RefUdata = 0x15,
        Indirect = 0x16, SecOffset = 0x17, Exprloc = 0x18, FlagPresent = 0x19, Strx = 0x1a, Addrx = 0x1b,
        RefSup4 = 0x1c, StrpSup = 0x1d, Data16 = 0x1e, LineStrp = 0x1f, RefSig8 = 0x20, ImplicitConst = 0x21,
        Loclistx = 0x22, Rnglistx = 0x23, RefSup8 = 0x24, Strx1 = 0x25, Strx2 = 0x26, Strx3 = 0x27, Strx4 = 0x28,
        Addrx1 = 0x29, Addrx2 = 0x2a, Addrx3 = 0x2b, Addrx4 = 0x2c,
        GnuAddrIndex = 0x1f01, GnuStrIndex = 0x1f02, GnuRefAlt = 0x1f20, GnuStrpAlt = 0x1f21;
}

/// <summary>Unit types of DWARF 5 headers (DW_UT_*).</summary>
internal static class DwUt
{
    public const byte Compile = 1, Type = 2, Partial = 3, Skeleton = 4, SplitCompile = 5, SplitType = 6;
}

/// <summary>DW_AT_inline values.</summary>
public enum DwarfInline : byte
{
    /// <summary>No DW_AT_inline attribute.</summary>
    None = 0xff,
    NotInlined = 0,
    Inlined = 1,
    DeclaredNotInlined = 2,
    DeclaredInlined = 3,
}
