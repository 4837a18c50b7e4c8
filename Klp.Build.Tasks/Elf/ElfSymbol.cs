namespace Klp.Build.Elf;

/// <summary>One entry of a symbol table. The defining section is an object reference, or a special index.</summary>
public sealed class ElfSymbol
{
    private string _name = "";

    public string Name
    {
        get => _name;
        set => _name = value ?? throw new ArgumentNullException(nameof(value));
    }

    public ulong Value { get; set; }
    public ulong Size { get; set; }

    /// <summary>Low nibble of st_info (values outside the enum are kept).</summary>
    public ElfSymbolType Type { get; set; }

    /// <summary>High nibble of st_info (values outside the enum are kept).</summary>
    public ElfSymbolBind Bind { get; set; }

    /// <summary>st_other as a whole: visibility in the low two bits, architecture bits (e.g. ppc64 local entry) above.</summary>
    public byte Other { get; set; }

    public ElfSymbolVisibility Visibility
    {
        get => (ElfSymbolVisibility)(Other & 3);
        set => Other = (byte)((Other & ~3) | ((byte)value & 3));
    }

    /// <summary>The defining section; when null, <see cref="SpecialSectionIndex"/> says what the symbol is.</summary>
    public ElfSection? Section { get; set; }

    /// <summary>st_shndx when <see cref="Section"/> is null: <see cref="ElfSectionIndex.Undefined"/>, Absolute, Common, Livepatch...</summary>
    public ushort SpecialSectionIndex { get; set; }

    /// <summary>The symbol table holding this symbol.</summary>
    public ElfSymbolTable? Table { get; internal set; }

    /// <summary>Position in its table (computed; -1 when not in a table).</summary>
    public int Index => Table?.IndexOf(this) ?? -1;

    public bool IsLocal => Bind == ElfSymbolBind.Local;
    public bool IsUndefined => Section is null && SpecialSectionIndex == ElfSectionIndex.Undefined;

    /// <summary>The st_shndx this symbol has (before SHN_XINDEX escaping).</summary>
    public uint SectionIndex => Section is not null ? (uint)Section.Index : SpecialSectionIndex;

    internal uint NameOffset { get; set; }
    internal string? NameAtRead { get; set; }

    public override string ToString() => Name.Length > 0 ? Name : $"<symbol {Index}>";
}
