namespace Klp.Build.Elf;

/// <summary>
/// An ELF file (relocatable object, kernel module or linked image such as vmlinux), ELF32 or ELF64, either byte
/// order. Read with <see cref="ElfReader"/>, edit sections and symbols, write with <see cref="ElfWriter"/>.
/// </summary>
public sealed class ElfFile
{
    private readonly List<ElfSection> _sections = [];
    private readonly byte[] _identification = new byte[16];

    /// <summary>A new, empty file (no sections) of the given kind.</summary>
    public ElfFile(ElfClass elfClass, ElfData data, ElfMachine machine, ElfFileType type)
    {
        if (elfClass is not (ElfClass.Elf32 or ElfClass.Elf64)) throw new ArgumentOutOfRangeException(nameof(elfClass));
        if (data is not (ElfData.LittleEndian or ElfData.BigEndian)) throw new ArgumentOutOfRangeException(nameof(data));
        _identification[0] = 0x7f;
        _identification[1] = (byte)'E';
        _identification[2] = (byte)'L';
        _identification[3] = (byte)'F';
        _identification[4] = (byte)elfClass;
        _identification[5] = (byte)data;
        _identification[6] = 1;
        Machine = machine;
        Type = type;
        Version = 1;
    }

    internal ElfFile(ReadOnlySpan<byte> identification) => identification[..16].CopyTo(_identification);

    /// <summary>The name used in diagnostics (usually the path it was read from).</summary>
    public string Name { get; set; } = "<memory>";

    public ElfClass Class => (ElfClass)_identification[4];
    public ElfData Data => (ElfData)_identification[5];
    public bool Is64 => Class == ElfClass.Elf64;
    public bool IsBigEndian => Data == ElfData.BigEndian;

    public byte OsAbi
    {
        get => _identification[7];
        set => _identification[7] = value;
    }

    public byte AbiVersion
    {
        get => _identification[8];
        set => _identification[8] = value;
    }

    /// <summary>e_ident as a whole (16 bytes, including the padding bytes, kept as read).</summary>
    public ReadOnlySpan<byte> Identification => _identification;

    public ElfFileType Type { get; set; }
    public ElfMachine Machine { get; set; }
    public uint Version { get; set; }
    public ulong Entry { get; set; }
    public uint Flags { get; set; }

    /// <summary>The sections, in section header order (the null section 0 is implicit).</summary>
    public IReadOnlyList<ElfSection> Sections => _sections;

    /// <summary>The section-name string table (e_shstrndx).</summary>
    public ElfStringTable? SectionNames { get; set; }

    /// <summary>The program header table, bytes as read (empty for relocatable objects); written back unchanged.</summary>
    public ReadOnlyMemory<byte> ProgramHeaderTable { get; internal set; } = ReadOnlyMemory<byte>.Empty;

    public int ProgramHeaderCount { get; internal set; }

    /// <summary>The program headers decoded (read-only view of <see cref="ProgramHeaderTable"/>).</summary>
    public IReadOnlyList<ElfProgramHeader> ProgramHeaders
    {
        get
        {
            var list = new List<ElfProgramHeader>(ProgramHeaderCount);
            var size = Encoding.ProgramHeaderSize;
            for (var i = 0; i < ProgramHeaderCount && (i + 1) * size <= ProgramHeaderTable.Length; i++)
                list.Add(ElfProgramHeader.Decode(Encoding, ProgramHeaderTable.Span.Slice(i * size, size)));
            return list;
        }
    }

    /// <summary>The (static) symbol table, SHT_SYMTAB, if there is one.</summary>
    public ElfSymbolTable? SymbolTable =>
        _sections.OfType<ElfSymbolTable>().FirstOrDefault(s => s.Type == ElfSectionType.SymbolTable);

    internal ElfEncoding Encoding => new(Is64, IsBigEndian);

    /// <summary>How the file was laid out when read (null for files made in memory).</summary>
    internal ElfOriginalLayout? Original { get; set; }

    public ElfSection? FindSection(string name) => _sections.FirstOrDefault(s => s.Name == name);

    public IEnumerable<ElfSection> FindSections(string name) => _sections.Where(s => s.Name == name);

    /// <summary>Appends a section at the end of the section header table.</summary>
    public T AddSection<T>(T section) where T : ElfSection => InsertSection(_sections.Count, section);

    /// <summary>Inserts a section at position <paramref name="position"/> (0-based, i.e. it gets index position+1).</summary>
    public T InsertSection<T>(int position, T section) where T : ElfSection
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section.File is not null) throw new InvalidOperationException($"{section} already belongs to {section.File.Name}.");
        if (position < 0 || position > _sections.Count) throw new ArgumentOutOfRangeException(nameof(position));
        section.File = this;
        _sections.Insert(position, section);
        Renumber(position);
        return section;
    }

    /// <summary>
    /// Removes a section and everything that only makes sense with it: relocation sections targeting it, its
    /// symbols (section symbols and symbols it defines), group membership; clears Link/Info references to it.
    /// Relocations elsewhere that still use a removed symbol make the next write fail verification.
    /// </summary>
    public void RemoveSection(ElfSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section.File != this) throw new InvalidOperationException($"{section} does not belong to {Name}.");
        var pending = new Queue<ElfSection>([section]);
        var removed = new HashSet<ElfSection>(ReferenceEqualityComparer.Instance);
        while (pending.Count > 0)
        {
            var s = pending.Dequeue();
            if (!removed.Add(s)) continue;
            foreach (var dependent in _sections.Where(d =>
                         d is ElfRelocationTable && d.InfoSection == s || d is ElfSymbolIndexTable && d.Link == s))
                pending.Enqueue(dependent);
        }

        foreach (var table in _sections.OfType<ElfSymbolTable>().Where(t => !removed.Contains(t)))
            table.RemoveWhere(sym => sym.Section is not null && removed.Contains(sym.Section));
        foreach (var other in _sections.Where(o => !removed.Contains(o)))
        {
            if (other.Link is not null && removed.Contains(other.Link)) other.Link = null;
            if (other.InfoSection is not null && removed.Contains(other.InfoSection))
            {
                other.InfoSection = null;
                other.Info = 0;
            }
            if (other is ElfGroupSection group) group.Members.RemoveAll(removed.Contains);
        }
        if (SectionNames is not null && removed.Contains(SectionNames)) SectionNames = null;

        _sections.RemoveAll(removed.Contains);
        foreach (var s in removed)
        {
            s.File = null;
            s.Index = 0;
        }
        Renumber(0);
    }

    private void Renumber(int from)
    {
        for (var i = from; i < _sections.Count; i++) _sections[i].Index = i + 1;
    }

    internal void AddRead(ElfSection section)
    {
        section.File = this;
        _sections.Add(section);
        section.Index = _sections.Count;
    }
}

/// <summary>The layout of a file as read: what is needed to write an unchanged file back byte for byte.</summary>
internal sealed class ElfOriginalLayout
{
    public required ElfSection[] Sections { get; init; }
    public required ulong FileLength { get; init; }
    public required ulong SectionHeaderOffset { get; init; }
    public required ulong ProgramHeaderOffset { get; init; }
    public required ushort HeaderSize { get; init; }
    public required ushort ProgramHeaderEntrySize { get; init; }
    public required ushort SectionHeaderEntrySize { get; init; }
    public required ushort SectionCountField { get; init; }
    public required ushort SectionNamesIndexField { get; init; }
    /// <summary>Section header 0 as read (all zeros, except with extended numbering).</summary>
    public required ReadOnlyMemory<byte> NullSectionHeader { get; init; }
    /// <summary>Bytes not covered by header, tables or section contents: padding, gaps, trailing data.</summary>
    public required List<(ulong Offset, ReadOnlyMemory<byte> Bytes)> Fillers { get; init; }
}
