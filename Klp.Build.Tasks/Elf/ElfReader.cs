using Klp.Build.Diagnostics;

namespace Klp.Build.Elf;

/// <summary>
/// Reads ELF files into an <see cref="ElfFile"/>. Malformed input is reported as a KLP3001 diagnostic and gives
/// null, never an exception; every count and offset is checked against the file size before it is used.
/// </summary>
public static class ElfReader
{
    /// <summary>The input is not a well-formed ELF file.</summary>
    public const string MalformedCode = "KLP3001";

    /// <summary>The file could not be read at all (missing, no permission, too big).</summary>
    public const string UnreadableCode = "KLP3003";

    public static bool HasElfMagic(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && data[0] == 0x7f && data[1] == (byte)'E' && data[2] == (byte)'L' && data[3] == (byte)'F';

    public static ElfFile? Read(string path, DiagnosticBag diagnostics)
    {
        byte[] data;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > Array.MaxLength)
            {
                diagnostics.Error(UnreadableCode, $"cannot read ELF file '{path}': it is {info.Length} bytes, more than this reader supports", path);
                return null;
            }
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(UnreadableCode, $"cannot read ELF file '{path}': {e.Message}", path);
            return null;
        }
        return Read(data, path, diagnostics);
    }

    public static ElfFile? Read(ReadOnlyMemory<byte> data, string name, DiagnosticBag diagnostics)
    {
        try
        {
            return new Parser(data, name).Parse();
        }
        catch (MalformedException e)
        {
            diagnostics.Error(MalformedCode, $"malformed ELF file '{name}': {e.Message}", name);
            return null;
        }
    }

    private sealed class MalformedException(string message) : Exception(message);

    private struct SectionHeader
    {
        public uint Name, Type, Link, Info;
        public ulong Flags, Address, Offset, Size, Alignment, EntrySize;
    }

    private sealed class Parser(ReadOnlyMemory<byte> memory, string name)
    {
        private readonly ReadOnlyMemory<byte> _memory = memory;
        private readonly ulong _length = (ulong)memory.Length;
        private ElfEncoding _e;
        private SectionHeader[] _headers = [];
        private ElfSection[] _sections = []; // index 0 unused

        private static MalformedException Fault(string message) => new(message);

        private ReadOnlySpan<byte> Span => _memory.Span;

        private uint _namesIndex;

        private string Describe(int index)
        {
            if (_sections.Length > index && _sections[index] is { NameAtRead: not null } s) return $"section {index} ({s.Name})";
            return RawName(index) is { } name ? $"section {index} ({name})" : $"section {index}";
        }

        /// <summary>A section's name straight from the bytes, for messages about faults found before names are read.</summary>
        private string? RawName(int index)
        {
            if (index <= 0 || index >= _headers.Length || _namesIndex == 0 || _namesIndex >= _headers.Length) return null;
            var names = _headers[_namesIndex];
            if (names.Type != (uint)ElfSectionType.StringTable || !Fits(names.Offset, names.Size)) return null;
            var offset = _headers[index].Name;
            if (offset >= names.Size) return null;
            var span = Span.Slice((int)(names.Offset + offset), (int)(names.Size - offset));
            var end = span.IndexOf((byte)0);
            return end < 0 ? null : System.Text.Encoding.UTF8.GetString(span[..Math.Min(end, 200)]);
        }

        private bool Fits(ulong offset, ulong size) => offset <= _length && size <= _length - offset;

        public ElfFile Parse()
        {
            if (_length < 16 || !HasElfMagic(Span)) throw Fault("no ELF magic number (\\x7fELF) at the start of the file");
            var cls = Span[4];
            var data = Span[5];
            if (cls is not (1 or 2)) throw Fault($"unknown ELF class {cls} (EI_CLASS must be 1 for ELF32 or 2 for ELF64)");
            if (data is not (1 or 2)) throw Fault($"unknown data encoding {data} (EI_DATA must be 1 for little or 2 for big endian)");
            _e = new ElfEncoding(cls == 2, data == 2);
            if (_length < (ulong)_e.HeaderSize)
                throw Fault($"the file (size 0x{_length:x}) is shorter than the ELF header (0x{_e.HeaderSize:x} bytes)");

            var file = new ElfFile(Span[..16]) { Name = name };
            var s = Span;
            file.Type = (ElfFileType)_e.U16(s, 16);
            file.Machine = (ElfMachine)_e.U16(s, 18);
            file.Version = _e.U32(s, 20);
            var o = 24;
            file.Entry = _e.Word(s, o);
            o += _e.AddressSize;
            var phoff = _e.Word(s, o);
            o += _e.AddressSize;
            var shoff = _e.Word(s, o);
            o += _e.AddressSize;
            file.Flags = _e.U32(s, o);
            var ehsize = _e.U16(s, o + 4);
            var phentsize = _e.U16(s, o + 6);
            var phnum = _e.U16(s, o + 8);
            var shentsize = _e.U16(s, o + 10);
            var shnumField = _e.U16(s, o + 12);
            var shstrndxField = _e.U16(s, o + 14);

            // Program headers: kept as raw bytes.
            if (phnum > 0)
            {
                if (phentsize != _e.ProgramHeaderSize)
                    throw Fault($"e_phentsize is {phentsize}, expected {_e.ProgramHeaderSize}");
                var size = (ulong)phnum * phentsize;
                if (!Fits(phoff, size))
                    throw Fault($"program header table offset 0x{phoff:x} + size 0x{size:x} runs past the end of the file (size 0x{_length:x})");
                file.ProgramHeaderTable = _memory.Slice((int)phoff, (int)size);
                file.ProgramHeaderCount = phnum;
            }

            // Section headers: section 0 may carry the real count and string table index.
            ulong count = 0;
            var nullHeader = ReadOnlyMemory<byte>.Empty;
            uint shstrndx = shstrndxField;
            if (shoff != 0)
            {
                if (shentsize != _e.SectionHeaderSize)
                    throw Fault($"e_shentsize is {shentsize}, expected {_e.SectionHeaderSize}");
                if (!Fits(shoff, shentsize))
                    throw Fault($"section header table offset 0x{shoff:x} runs past the end of the file (size 0x{_length:x})");
                var zero = ReadHeader(shoff);
                nullHeader = _memory.Slice((int)shoff, shentsize);
                count = shnumField != 0 ? shnumField : zero.Size;
                if (shstrndxField == ElfSectionIndex.XIndex) shstrndx = zero.Link;
                if (count > (_length - shoff) / shentsize)
                    throw Fault($"section header table offset 0x{shoff:x} + {count} entries of 0x{shentsize:x} bytes runs past the end of the file (size 0x{_length:x})");
            }
            else if (shnumField != 0)
            {
                throw Fault($"e_shnum is {shnumField} but e_shoff is 0");
            }

            _headers = new SectionHeader[count];
            for (ulong i = 0; i < count; i++) _headers[i] = ReadHeader(shoff + i * shentsize);
            _sections = new ElfSection[count];
            _namesIndex = shstrndx;

            for (var i = 1; i < (int)count; i++)
            {
                var h = _headers[i];
                if (h.Type != (uint)ElfSectionType.NoBits && !Fits(h.Offset, h.Size))
                    throw Fault($"{Describe(i)} offset 0x{h.Offset:x} + size 0x{h.Size:x} runs past the end of the file (size 0x{_length:x})");
                _sections[i] = Create(i, h);
            }

            // Names.
            ElfStringTable? names = null;
            if (count > 0 && shstrndx != 0)
            {
                if (shstrndx >= count) throw Fault($"e_shstrndx {shstrndx} is out of range (the file has {count} sections)");
                names = _sections[shstrndx] as ElfStringTable
                        ?? throw Fault($"e_shstrndx {shstrndx} names section {shstrndx}, which is not a string table (type 0x{_headers[shstrndx].Type:x})");
            }
            file.SectionNames = names;
            for (var i = 1; i < (int)count; i++)
            {
                var section = _sections[i];
                section.NameOffset = _headers[i].Name;
                if (names is not null)
                {
                    section.Name = names.TryGetString(_headers[i].Name)
                                   ?? throw Fault($"section {i} has a name offset 0x{_headers[i].Name:x} outside its string table (size 0x{names.Size:x})");
                }
                section.NameAtRead = section.Name;
            }

            ResolveLinks();
            for (var i = 1; i < (int)count; i++)
                if (_sections[i] is ElfSymbolTable table) ReadSymbols(i, table);
            for (var i = 1; i < (int)count; i++)
            {
                switch (_sections[i])
                {
                    case ElfRelocationTable relocations: ReadRelocations(i, relocations); break;
                    case ElfGroupSection group: ReadGroup(i, group); break;
                }
                ResolveInfo(i);
            }

            for (var i = 1; i < (int)count; i++) file.AddRead(_sections[i]);
            file.Original = new ElfOriginalLayout
            {
                Sections = _sections.Skip(1).ToArray(),
                FileLength = _length,
                SectionHeaderOffset = shoff,
                ProgramHeaderOffset = phoff,
                HeaderSize = ehsize,
                ProgramHeaderEntrySize = phentsize,
                SectionHeaderEntrySize = shentsize,
                SectionCountField = shnumField,
                SectionNamesIndexField = shstrndxField,
                NullSectionHeader = nullHeader,
                Fillers = FindFillers(phoff, (ulong)phnum * phentsize, shoff, count * shentsize),
            };
            return file;
        }

        private SectionHeader ReadHeader(ulong at)
        {
            var s = Span.Slice((int)at, _e.SectionHeaderSize);
            if (_e.Is64)
            {
                return new SectionHeader
                {
                    Name = _e.U32(s, 0), Type = _e.U32(s, 4), Flags = _e.U64(s, 8), Address = _e.U64(s, 16),
                    Offset = _e.U64(s, 24), Size = _e.U64(s, 32), Link = _e.U32(s, 40), Info = _e.U32(s, 44),
                    Alignment = _e.U64(s, 48), EntrySize = _e.U64(s, 56),
                };
            }
            return new SectionHeader
            {
                Name = _e.U32(s, 0), Type = _e.U32(s, 4), Flags = _e.U32(s, 8), Address = _e.U32(s, 12),
                Offset = _e.U32(s, 16), Size = _e.U32(s, 20), Link = _e.U32(s, 24), Info = _e.U32(s, 28),
                Alignment = _e.U32(s, 32), EntrySize = _e.U32(s, 36),
            };
        }

        private ReadOnlyMemory<byte> Content(SectionHeader h) => _memory.Slice((int)h.Offset, (int)h.Size);

        private void CheckEntries(int index, SectionHeader h, ulong expected, string what)
        {
            if (h.EntrySize != expected)
                throw Fault($"{Describe(index)} ({what}) has sh_entsize {h.EntrySize}, expected {expected}");
            if (h.Size % expected != 0)
                throw Fault($"{Describe(index)} ({what}) size 0x{h.Size:x} is not a multiple of its entry size {expected}");
        }

        private ElfSection Create(int index, SectionHeader h)
        {
            var type = (ElfSectionType)h.Type;
            ElfSection section;
            switch (type)
            {
                case ElfSectionType.NoBits:
                    section = new ElfNoBitsSection { MemorySize = h.Size };
                    break;
                case ElfSectionType.StringTable:
                    section = new ElfStringTable(Content(h));
                    break;
                case ElfSectionType.SymbolTable or ElfSectionType.DynamicSymbolTable:
                    CheckEntries(index, h, (ulong)_e.SymbolSize, "symbol table");
                    section = new ElfSymbolTable(type, addNullSymbol: false);
                    break;
                case ElfSectionType.Rel or ElfSectionType.Rela when h.Link != 0:
                    CheckEntries(index, h, (ulong)(type == ElfSectionType.Rela ? _e.RelaSize : _e.RelSize), "relocations");
                    section = new ElfRelocationTable(type == ElfSectionType.Rela);
                    break;
                case ElfSectionType.SymbolTableSectionIndex:
                    if (h.Size % 4 != 0) throw Fault($"{Describe(index)} (extended section indices) size 0x{h.Size:x} is not a multiple of 4");
                    section = new ElfSymbolIndexTable();
                    break;
                case ElfSectionType.Group:
                    if (h.Size < 4 || h.Size % 4 != 0) throw Fault($"{Describe(index)} (group) size 0x{h.Size:x} is not a positive multiple of 4");
                    section = new ElfGroupSection();
                    break;
                default:
                    section = new ElfRawSection(type) { Data = Content(h) };
                    break;
            }
            section.Index = index;
            section.Type = type;
            section.Flags = (ElfSectionFlags)h.Flags;
            section.Address = h.Address;
            section.Alignment = h.Alignment;
            section.EntrySize = h.EntrySize;
            section.Info = h.Info;
            section.OriginalOffset = h.Offset;
            section.OriginalSize = h.Size;
            return section;
        }

        private void ResolveLinks()
        {
            var count = _sections.Length;
            for (var i = 1; i < count; i++)
            {
                var link = _headers[i].Link;
                if (link == 0) continue;
                if (link >= count) throw Fault($"{Describe(i)} links to section {link}, which is out of range (the file has {count} sections)");
                _sections[i].Link = _sections[link];
            }

            // Links form chains (relocations → symbols → strings); a cycle is never valid.
            var state = new byte[count]; // 0 unvisited, 1 on the current path, 2 done
            for (var i = 1; i < count; i++)
            {
                var at = i;
                while (at != 0 && state[at] == 0)
                {
                    state[at] = 1;
                    at = (int)_headers[at].Link;
                }
                if (at != 0 && state[at] == 1) throw Fault($"{Describe(i)} is part of a sh_link cycle (through {Describe(at)})");
                at = i;
                while (at != 0 && state[at] == 1)
                {
                    state[at] = 2;
                    at = (int)_headers[at].Link;
                }
            }

            for (var i = 1; i < count; i++)
            {
                var section = _sections[i];
                switch (section)
                {
                    case ElfSymbolTable when section.Link is not ElfStringTable:
                        throw Fault($"{Describe(i)} is a symbol table whose sh_link ({_headers[i].Link}) is not a string table");
                    case ElfRelocationTable when section.Link is not ElfSymbolTable:
                        throw Fault($"{Describe(i)} holds relocations whose sh_link ({_headers[i].Link}) is not a symbol table");
                    case ElfSymbolIndexTable when section.Link is not ElfSymbolTable:
                        throw Fault($"{Describe(i)} holds extended section indices whose sh_link ({_headers[i].Link}) is not a symbol table");
                    case ElfGroupSection when section.Link is not ElfSymbolTable:
                        throw Fault($"{Describe(i)} is a group whose sh_link ({_headers[i].Link}) is not a symbol table");
                }
            }
        }

        private void ReadSymbols(int index, ElfSymbolTable table)
        {
            var h = _headers[index];
            var strings = (ElfStringTable)table.Link!;
            var size = _e.SymbolSize;
            var symbolCount = (int)(h.Size / (ulong)size);
            ReadOnlySpan<byte> extended = default;
            var extendedTable = _sections.OfType<ElfSymbolIndexTable>().FirstOrDefault(x => x.Link == table);
            if (extendedTable is not null)
            {
                var xh = _headers[extendedTable.Index];
                extended = Span.Slice((int)xh.Offset, (int)xh.Size);
            }

            var data = Span.Slice((int)h.Offset, (int)h.Size);
            var cache = new Dictionary<uint, string>();
            for (var n = 0; n < symbolCount; n++)
            {
                var s = data.Slice(n * size, size);
                uint nameOffset;
                byte info, other;
                ushort shndx;
                ulong value, symbolSize;
                if (_e.Is64)
                {
                    nameOffset = _e.U32(s, 0);
                    info = s[4];
                    other = s[5];
                    shndx = _e.U16(s, 6);
                    value = _e.U64(s, 8);
                    symbolSize = _e.U64(s, 16);
                }
                else
                {
                    nameOffset = _e.U32(s, 0);
                    value = _e.U32(s, 4);
                    symbolSize = _e.U32(s, 8);
                    info = s[12];
                    other = s[13];
                    shndx = _e.U16(s, 14);
                }

                if (!cache.TryGetValue(nameOffset, out var symbolName))
                {
                    symbolName = strings.TryGetString(nameOffset)
                                 ?? throw Fault($"symbol {n} of {Describe(index)} has a name offset 0x{nameOffset:x} outside its string table {Describe(strings.Index)} (size 0x{strings.Size:x})");
                    cache[nameOffset] = symbolName;
                }

                var symbol = new ElfSymbol
                {
                    Name = symbolName, NameAtRead = symbolName, NameOffset = nameOffset,
                    Value = value, Size = symbolSize, Other = other,
                    Type = (ElfSymbolType)(info & 0xf), Bind = (ElfSymbolBind)(info >> 4),
                };
                uint sectionIndex = shndx;
                if (shndx == ElfSectionIndex.XIndex)
                {
                    if (extendedTable is null)
                        throw Fault($"symbol {n} ({symbolName}) of {Describe(index)} uses SHN_XINDEX but the file has no SHT_SYMTAB_SHNDX section for it");
                    if ((n + 1) * 4 > extended.Length)
                        throw Fault($"symbol {n} ({symbolName}) of {Describe(index)} uses SHN_XINDEX but the SHT_SYMTAB_SHNDX section has only {extended.Length / 4} entries");
                    sectionIndex = _e.U32(extended, n * 4);
                    if (sectionIndex == 0 || sectionIndex >= _sections.Length)
                        throw Fault($"symbol {n} ({symbolName}) of {Describe(index)} has extended section index {sectionIndex}, out of range (the file has {_sections.Length} sections)");
                }
                if (sectionIndex == 0 || sectionIndex >= ElfSectionIndex.LoReserve && shndx != ElfSectionIndex.XIndex)
                {
                    symbol.SpecialSectionIndex = shndx;
                }
                else if (sectionIndex < _sections.Length)
                {
                    symbol.Section = _sections[sectionIndex];
                }
                else
                {
                    throw Fault($"symbol {n} ({symbolName}) of {Describe(index)} has section index {sectionIndex}, out of range (the file has {_sections.Length} sections)");
                }
                table.AddRead(symbol);
            }
        }

        private void ReadRelocations(int index, ElfRelocationTable table)
        {
            var h = _headers[index];
            var symbols = ((ElfSymbolTable)table.Link!).Symbols;
            var size = table.HasAddends ? _e.RelaSize : _e.RelSize;
            var entryCount = (int)(h.Size / (ulong)size);
            var data = Span.Slice((int)h.Offset, (int)h.Size);
            table.Entries.Capacity = entryCount;
            for (var n = 0; n < entryCount; n++)
            {
                var s = data.Slice(n * size, size);
                ulong offset;
                uint symbolIndex, type;
                long addend = 0;
                if (_e.Is64)
                {
                    offset = _e.U64(s, 0);
                    var info = _e.U64(s, 8);
                    symbolIndex = (uint)(info >> 32);
                    type = (uint)info;
                    if (table.HasAddends) addend = (long)_e.U64(s, 16);
                }
                else
                {
                    offset = _e.U32(s, 0);
                    var info = _e.U32(s, 4);
                    symbolIndex = info >> 8;
                    type = info & 0xff;
                    if (table.HasAddends) addend = (int)_e.U32(s, 8);
                }
                if (symbolIndex >= symbols.Count)
                    throw Fault($"relocation {n} of {Describe(index)} uses symbol index {symbolIndex}, but its symbol table {Describe(table.Link!.Index)} has {symbols.Count} symbols");
                table.Entries.Add(new ElfRelocation
                {
                    Offset = offset, Type = type, Addend = addend,
                    Symbol = symbolIndex == 0 ? null : symbols[(int)symbolIndex],
                });
            }
        }

        private void ReadGroup(int index, ElfGroupSection group)
        {
            var h = _headers[index];
            var data = Span.Slice((int)h.Offset, (int)h.Size);
            group.GroupFlags = _e.U32(data, 0);
            for (var at = 4; at < data.Length; at += 4)
            {
                var member = _e.U32(data, at);
                if (member == 0 || member >= _sections.Length)
                    throw Fault($"{Describe(index)} lists member section {member}, out of range (the file has {_sections.Length} sections)");
                group.Members.Add(_sections[member]);
            }
            var symbols = ((ElfSymbolTable)group.Link!).Symbols;
            if (h.Info >= symbols.Count)
                throw Fault($"{Describe(index)} has signature symbol {h.Info}, but its symbol table has {symbols.Count} symbols");
            group.Signature = symbols[(int)h.Info];
        }

        private void ResolveInfo(int index)
        {
            var section = _sections[index];
            var h = _headers[index];
            if (section is ElfSymbolTable or ElfGroupSection || h.Info == 0) return;
            var isLink = section.Type is ElfSectionType.Rel or ElfSectionType.Rela
                         || ((ElfSectionFlags)h.Flags).HasFlag(ElfSectionFlags.InfoLink);
            if (!isLink) return;
            if (h.Info >= _sections.Length)
                throw Fault($"{Describe(index)} has sh_info {h.Info}, which is out of range (the file has {_sections.Length} sections)");
            section.InfoSection = _sections[h.Info];
        }

        private List<(ulong, ReadOnlyMemory<byte>)> FindFillers(ulong phoff, ulong phsize, ulong shoff, ulong shsize)
        {
            var covered = new List<(ulong Start, ulong End)> { (0, (ulong)_e.HeaderSize) };
            if (phsize > 0) covered.Add((phoff, phoff + phsize));
            if (shsize > 0) covered.Add((shoff, shoff + shsize));
            for (var i = 1; i < _headers.Length; i++)
            {
                var h = _headers[i];
                if (h.Type != (uint)ElfSectionType.NoBits && h.Size > 0) covered.Add((h.Offset, h.Offset + h.Size));
            }
            covered.Sort();
            var fillers = new List<(ulong, ReadOnlyMemory<byte>)>();
            ulong position = 0;
            foreach (var (start, end) in covered)
            {
                if (start > position) fillers.Add((position, _memory.Slice((int)position, (int)(start - position))));
                position = Math.Max(position, end);
            }
            if (position < _length) fillers.Add((position, _memory[(int)position..]));
            return fillers;
        }
    }
}
