namespace Klp.Build.Elf;

/// <summary>
/// One section of an <see cref="ElfFile"/>. Link and Info refer to other sections by object, and become indices
/// only when the file is written, so adding or removing sections never leaves a stale number behind.
/// </summary>
public abstract class ElfSection
{
    private string _name = "";

    protected ElfSection(ElfSectionType type) => Type = type;

    /// <summary>The file this section belongs to, or null before it is added to one.</summary>
    public ElfFile? File { get; internal set; }

    /// <summary>The section header index (1-based: 0 is the null section), or 0 when not in a file.</summary>
    public int Index { get; internal set; }

    public string Name
    {
        get => _name;
        set => _name = value ?? throw new ArgumentNullException(nameof(value));
    }

    public ElfSectionType Type { get; set; }
    public ElfSectionFlags Flags { get; set; }
    public ulong Address { get; set; }
    public ulong Alignment { get; set; }
    public ulong EntrySize { get; set; }

    /// <summary>sh_link: the related section (string table of a symbol table, symbol table of relocations...).</summary>
    public ElfSection? Link { get; set; }

    /// <summary>sh_info as a section (the target of relocations, SHF_INFO_LINK); wins over <see cref="Info"/>.</summary>
    public ElfSection? InfoSection { get; set; }

    /// <summary>sh_info as a number, used when <see cref="InfoSection"/> is null and the section type gives no meaning of its own.</summary>
    public uint Info { get; set; }

    /// <summary>sh_size: the number of bytes of content (for NOBITS, the size in memory).</summary>
    public abstract ulong Size { get; }

    /// <summary>Whether the content occupies bytes in the file (false for NOBITS).</summary>
    public virtual bool HasFileContent => true;

    // Where the section came from, so an unchanged file is written back exactly as read.
    internal uint NameOffset { get; set; }
    internal string? NameAtRead { get; set; }
    internal ulong OriginalOffset { get; set; }
    internal ulong OriginalSize { get; set; }

    /// <summary>Appends the section's file content (exactly <see cref="Size"/> bytes) to the output.</summary>
    internal abstract void WriteContent(ElfEncoding encoding, Stream output);

    /// <summary>The value written to sh_info.</summary>
    internal virtual uint ComputeInfo() => InfoSection is not null ? (uint)InfoSection.Index : Info;

    public override string ToString() => Index > 0 ? $"section {Index} ({Name})" : $"section ({Name})";
}

/// <summary>A section whose bytes are kept exactly as they are (code, data, notes, anything unknown).</summary>
public sealed class ElfRawSection(ElfSectionType type) : ElfSection(type)
{
    public ReadOnlyMemory<byte> Data { get; set; } = ReadOnlyMemory<byte>.Empty;

    public override ulong Size => (ulong)Data.Length;

    internal override void WriteContent(ElfEncoding encoding, Stream output) => output.Write(Data.Span);
}

/// <summary>SHT_NOBITS (.bss): occupies memory, not file bytes.</summary>
public sealed class ElfNoBitsSection() : ElfSection(ElfSectionType.NoBits)
{
    public ulong MemorySize { get; set; }

    public override ulong Size => MemorySize;
    public override bool HasFileContent => false;

    internal override void WriteContent(ElfEncoding encoding, Stream output) { }
}
