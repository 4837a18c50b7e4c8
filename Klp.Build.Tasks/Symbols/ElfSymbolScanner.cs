using System.Buffers.Binary;
using System.Text;
using Klp.Build.Elf;

namespace Klp.Build.Symbols;

/// <summary>One section header as far as symbol kinds need it.</summary>
internal readonly record struct ScannedSection(string Name, ElfSectionType Type, ElfSectionFlags Flags, ulong EntrySize);

/// <summary>One .symtab entry, read in place.</summary>
internal readonly record struct ScannedSymbol(int Index, string Name, ulong Value, ElfSymbolType Type, ElfSymbolBind Bind, uint SectionIndex);

/// <summary>
/// Reads only the section headers, .symtab and its string table of an ELF file (a 600 MB debug vmlinux is
/// mostly DWARF that a symbol map never needs). Every offset is checked; a malformed file gives an error
/// message instead of symbols. ELF32/ELF64 in either byte order.
/// </summary>
internal static class ElfSymbolScanner
{
    /// <summary>Scans an ELF file in memory.</summary>
    public static string? Scan(ReadOnlyMemory<byte> data, out ScannedSection[] sections, out ScannedSymbol[] symbols, out string? moduleName) =>
        Scan((offset, size) => offset <= (ulong)data.Length && (ulong)size <= (ulong)data.Length - offset ? data.Slice((int)offset, size) : null,
            (ulong)data.Length, out sections, out symbols, out moduleName);

    /// <summary>Scans an ELF file on disk, reading only its headers, .symtab and string tables.</summary>
    public static string? ScanFile(string path, out ScannedSection[] sections, out ScannedSymbol[] symbols, out string? moduleName)
    {
        using var handle = File.OpenHandle(path);
        var length = (ulong)RandomAccess.GetLength(handle);
        return Scan((offset, size) =>
        {
            if (offset > length || (ulong)size > length - offset) return null;
            var buffer = GC.AllocateUninitializedArray<byte>(size);
            var done = 0;
            while (done < size)
            {
                var n = RandomAccess.Read(handle, buffer.AsSpan(done), (long)offset + done);
                if (n <= 0) return null;
                done += n;
            }
            return buffer;
        }, length, out sections, out symbols, out moduleName);
    }

    /// <summary>read(offset, size) gives those bytes, or null when they are not all in the file.</summary>
    private static string? Scan(Func<ulong, int, ReadOnlyMemory<byte>?> read, ulong length, out ScannedSection[] sections, out ScannedSymbol[] symbols, out string? moduleName)
    {
        sections = [];
        symbols = [];
        moduleName = null;
        var headerBytes = read(0, (int)Math.Min(length, 64UL));
        if (headerBytes is not { } hb) return "unreadable ELF header";
        var data = hb.Span;
        if (!ElfReader.HasElfMagic(data) || data.Length < 52) return "not an ELF file";
        var is64 = data[4] == 2;
        var big = data[5] == 2;
        if (data[4] is not (1 or 2) || data[5] is not (1 or 2)) return "unknown ELF class or data encoding";
        if (is64 && data.Length < 64) return "truncated ELF header";
        ulong Word(ReadOnlySpan<byte> s, int at) => is64 ? U64(s, at, big) : U32(s, at, big);

        var shoff = Word(data, is64 ? 0x28 : 0x20);
        var shentsize = U16(data, is64 ? 0x3a : 0x2e, big);
        ulong shnum = U16(data, is64 ? 0x3c : 0x30, big);
        uint shstrndx = U16(data, is64 ? 0x3e : 0x32, big);
        var headerSize = is64 ? 64 : 40;
        if (shoff == 0) return "the file has no section headers";
        if (shentsize < headerSize || shoff > length) return "bad section header table";
        if (shnum == 0 || shstrndx == ElfSectionIndex.XIndex)
        {
            // Extended numbering: the counts live in section 0.
            if (read(shoff, headerSize) is not { } zeroBytes) return "bad section header table";
            var zero = zeroBytes.Span;
            if (shnum == 0) shnum = Word(zero, is64 ? 0x20 : 0x14);
            if (shstrndx == ElfSectionIndex.XIndex) shstrndx = U32(zero, is64 ? 0x28 : 0x18, big);
        }
        if (shnum > (length - shoff) / shentsize) return "section header table runs past the end of the file";
        if (read(shoff, (int)shnum * shentsize) is not { } tableBytes) return "unreadable section header table";
        var headers = tableBytes.Span;

        var count = (int)shnum;
        var raw = new (uint Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, ulong EntSize)[count];
        for (var i = 0; i < count; i++)
        {
            var h = headers.Slice(i * shentsize, headerSize);
            raw[i] = is64
                ? (U32(h, 0, big), U32(h, 4, big), U64(h, 8, big), U64(h, 0x18, big), U64(h, 0x20, big), U32(h, 0x28, big), U64(h, 0x38, big))
                : (U32(h, 0, big), U32(h, 4, big), U32(h, 8, big), U32(h, 0x10, big), U32(h, 0x14, big), U32(h, 0x18, big), U32(h, 0x24, big));
        }
        ReadOnlyMemory<byte>? Section(int index) =>
            raw[index].Type == (uint)ElfSectionType.NoBits || raw[index].Size > int.MaxValue ? null : read(raw[index].Offset, (int)raw[index].Size);

        var names = shstrndx < shnum && Section((int)shstrndx) is { } namesBytes ? namesBytes.Span : default;
        sections = new ScannedSection[count];
        for (var i = 0; i < count; i++)
            sections[i] = new ScannedSection(CString(names, raw[i].Name), (ElfSectionType)raw[i].Type, (ElfSectionFlags)raw[i].Flags, raw[i].EntSize);

        var modinfo = Array.FindIndex(sections, x => x.Name == ElfModInfo.SectionName);
        if (modinfo > 0 && Section(modinfo) is { } modinfoBytes) moduleName = ElfModInfo.Parse(modinfoBytes.Span).Name;

        var symtab = Array.FindIndex(raw, r => r.Type == (uint)ElfSectionType.SymbolTable);
        if (symtab < 0) return null; // stripped: no symbols
        var st = raw[symtab];
        if (Section(symtab) is not { } symtabBytes) return ".symtab runs past the end of the file";
        if (st.Link >= shnum || Section((int)st.Link) is not { } stringBytes) return ".symtab has no valid string table";
        var strings = stringBytes.Span;
        var symbolSize = is64 ? 24 : 16;
        var table = symtabBytes.Span;
        var n = table.Length / symbolSize;

        // Names repeat a lot (type_show, __func__.0, ...): share the strings.
        var pool = new Dictionary<int, string>();
        symbols = new ScannedSymbol[n];
        for (var i = 0; i < n; i++)
        {
            var e = table.Slice(i * symbolSize, symbolSize);
            uint nameOffset, shndx;
            ulong value;
            byte info;
            if (is64)
            {
                nameOffset = U32(e, 0, big);
                info = e[4];
                shndx = U16(e, 6, big);
                value = U64(e, 8, big);
            }
            else
            {
                nameOffset = U32(e, 0, big);
                value = U32(e, 4, big);
                info = e[12];
                shndx = U16(e, 14, big);
            }
            if (!pool.TryGetValue((int)Math.Min(nameOffset, int.MaxValue), out var name))
                pool[(int)Math.Min(nameOffset, int.MaxValue)] = name = CString(strings, nameOffset);
            symbols[i] = new ScannedSymbol(i, name, value, (ElfSymbolType)(info & 0xf), (ElfSymbolBind)(info >> 4), shndx);
        }
        return null;
    }

    private static string CString(ReadOnlySpan<byte> table, uint offset)
    {
        if (offset >= (uint)table.Length) return "";
        var rest = table[(int)offset..];
        var end = rest.IndexOf((byte)0);
        return end == 0 ? "" : Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }

    private static ushort U16(ReadOnlySpan<byte> s, int at, bool big) =>
        big ? BinaryPrimitives.ReadUInt16BigEndian(s[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);

    private static uint U32(ReadOnlySpan<byte> s, int at, bool big) =>
        big ? BinaryPrimitives.ReadUInt32BigEndian(s[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);

    private static ulong U64(ReadOnlySpan<byte> s, int at, bool big) =>
        big ? BinaryPrimitives.ReadUInt64BigEndian(s[at..]) : BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);
}
