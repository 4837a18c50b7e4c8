namespace Klp.Build.Elf;

/// <summary>EI_CLASS: the word size of the file.</summary>
public enum ElfClass : byte { None = 0, Elf32 = 1, Elf64 = 2 }

/// <summary>EI_DATA: the byte order of the file.</summary>
public enum ElfData : byte { None = 0, LittleEndian = 1, BigEndian = 2 }

/// <summary>e_type. Values outside the named ones are kept as they are.</summary>
public enum ElfFileType : ushort { None = 0, Relocatable = 1, Executable = 2, SharedObject = 3, Core = 4 }

/// <summary>e_machine, the architectures this product cares about (any other value is kept as it is).</summary>
public enum ElfMachine : ushort
{
    None = 0, I386 = 3, Ppc = 20, Ppc64 = 21, S390 = 22, Arm = 40, X86_64 = 62, AArch64 = 183, RiscV = 243,
}

/// <summary>sh_type.</summary>
public enum ElfSectionType : uint
{
    Null = 0, ProgBits = 1, SymbolTable = 2, StringTable = 3, Rela = 4, Hash = 5, Dynamic = 6, Note = 7,
    NoBits = 8, Rel = 9, ShLib = 10, DynamicSymbolTable = 11, InitArray = 14, FiniArray = 15,
    PreInitArray = 16, Group = 17, SymbolTableSectionIndex = 18,
    GnuAttributes = 0x6ffffff5, GnuHash = 0x6ffffff6, GnuVerDef = 0x6ffffffd, GnuVerNeed = 0x6ffffffe,
    GnuVerSym = 0x6fffffff,
}

/// <summary>sh_flags.</summary>
[Flags]
public enum ElfSectionFlags : ulong
{
    None = 0,
    Write = 0x1,
    Alloc = 0x2,
    ExecInstr = 0x4,
    Merge = 0x10,
    Strings = 0x20,
    InfoLink = 0x40,
    LinkOrder = 0x80,
    OsNonConforming = 0x100,
    Group = 0x200,
    Tls = 0x400,
    Compressed = 0x800,
    /// <summary>SHF_RELA_LIVEPATCH: a .klp.rela.* section the kernel's livepatch core applies.</summary>
    RelaLivepatch = 0x00100000,
    /// <summary>SHF_GNU_RETAIN.</summary>
    GnuRetain = 0x00200000,
}

/// <summary>Special section indices (st_shndx, e_shstrndx).</summary>
public static class ElfSectionIndex
{
    public const ushort Undefined = 0;
    public const ushort LoReserve = 0xff00;
    /// <summary>SHN_LIVEPATCH: a symbol the livepatch core resolves when the patch loads.</summary>
    public const ushort Livepatch = 0xff20;
    public const ushort Absolute = 0xfff1;
    public const ushort Common = 0xfff2;
    public const ushort XIndex = 0xffff;
}

/// <summary>ELF_ST_TYPE.</summary>
public enum ElfSymbolType : byte
{
    NoType = 0, Object = 1, Function = 2, Section = 3, File = 4, Common = 5, Tls = 6, GnuIndirectFunction = 10,
}

/// <summary>ELF_ST_BIND.</summary>
public enum ElfSymbolBind : byte { Local = 0, Global = 1, Weak = 2, GnuUnique = 10 }

/// <summary>ELF_ST_VISIBILITY (low two bits of st_other).</summary>
public enum ElfSymbolVisibility : byte { Default = 0, Internal = 1, Hidden = 2, Protected = 3 }
