using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;

namespace Klp.Build.Dwarf;

/// <summary>
/// The .debug_* sections of one ELF file, ready to parse: linked images (vmlinux) are read section by section
/// without the rest of the file; relocatable objects (.o, .ko) go through <see cref="ElfReader"/> and get their
/// .rela.debug_* relocations applied (a .ko's DW_FORM_strp values are 0 plus a relocation against .debug_str).
/// SHF_COMPRESSED (zlib) sections are inflated.
/// </summary>
public sealed class DwarfSections
{
    public static readonly string[] SectionNames =
    [
        ".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str", ".debug_str_offsets", ".debug_addr",
        ".debug_rnglists", ".debug_ranges", ".debug_line", ".debug_types",
    ];

    public string Name { get; init; } = "<memory>";
    public bool IsBigEndian { get; init; }
    public bool Is64 { get; init; } = true;
    public ElfMachine Machine { get; init; }
    public ElfFileType FileType { get; init; }

    public ReadOnlyMemory<byte> Info { get; init; }
    public ReadOnlyMemory<byte> Abbrev { get; init; }
    public ReadOnlyMemory<byte> Str { get; init; }
    public ReadOnlyMemory<byte> LineStr { get; init; }
    public ReadOnlyMemory<byte> StrOffsets { get; init; }
    public ReadOnlyMemory<byte> Addr { get; init; }
    public ReadOnlyMemory<byte> Rnglists { get; init; }
    public ReadOnlyMemory<byte> Ranges { get; init; }
    public ReadOnlyMemory<byte> Line { get; init; }
    public ReadOnlyMemory<byte> Types { get; init; }

    /// <summary>Sections made from raw bytes (tests, fuzzing): little endian, 64-bit, no relocations.</summary>
    public static DwarfSections FromBytes(IReadOnlyDictionary<string, byte[]> sections, string name = "<memory>")
    {
        ReadOnlyMemory<byte> Get(string n) => sections.TryGetValue(n, out var b) ? b : ReadOnlyMemory<byte>.Empty;
        return Make(name, false, true, ElfMachine.X86_64, ElfFileType.Relocatable, Get);
    }

    private static DwarfSections Make(string name, bool big, bool is64, ElfMachine machine, ElfFileType type, Func<string, ReadOnlyMemory<byte>> get) => new()
    {
        Name = name, IsBigEndian = big, Is64 = is64, Machine = machine, FileType = type,
        Info = get(".debug_info"), Abbrev = get(".debug_abbrev"), Str = get(".debug_str"), LineStr = get(".debug_line_str"),
        StrOffsets = get(".debug_str_offsets"), Addr = get(".debug_addr"), Rnglists = get(".debug_rnglists"),
        Ranges = get(".debug_ranges"), Line = get(".debug_line"), Types = get(".debug_types"),
    };

    /// <summary>
    /// Reads the debug sections of an ELF file. Relocatable objects are read whole (they are small) and
    /// relocated; anything else only section by section. Null, with a diagnostic, when the file is unreadable
    /// or has no .debug_info.
    /// </summary>
    public static DwarfSections? Load(string path, DiagnosticBag diagnostics)
    {
        try
        {
            using var handle = File.OpenHandle(path);
            var length = (ulong)RandomAccess.GetLength(handle);
            var header = new byte[64];
            var n = RandomAccess.Read(handle, header, 0);
            if (n < 52 || !ElfReader.HasElfMagic(header) || header[4] is not (1 or 2) || header[5] is not (1 or 2))
            {
                diagnostics.Error(DwarfCodes.UnreadableFile, $"'{path}' is not an ELF file", path);
                return null;
            }
            var big = header[5] == 2;
            var type = (ElfFileType)(big ? BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16)) : BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(16)));
            if (type == ElfFileType.Relocatable)
            {
                var elf = ElfReader.Read(path, diagnostics);
                return elf is null ? null : FromElf(elf, diagnostics);
            }
            return LoadLinked(handle, length, header, path, diagnostics);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(DwarfCodes.UnreadableFile, $"cannot read '{path}': {e.Message}", path);
            return null;
        }
    }

    private static DwarfSections? LoadLinked(Microsoft.Win32.SafeHandles.SafeFileHandle handle, ulong length, byte[] header, string path, DiagnosticBag diagnostics)
    {
        var is64 = header[4] == 2;
        var big = header[5] == 2;
        ushort U16(ReadOnlySpan<byte> s, int at) => big ? BinaryPrimitives.ReadUInt16BigEndian(s[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);
        uint U32(ReadOnlySpan<byte> s, int at) => big ? BinaryPrimitives.ReadUInt32BigEndian(s[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
        ulong U64(ReadOnlySpan<byte> s, int at) => big ? BinaryPrimitives.ReadUInt64BigEndian(s[at..]) : BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);
        ulong Word(ReadOnlySpan<byte> s, int at) => is64 ? U64(s, at) : U32(s, at);

        byte[]? Read(ulong offset, ulong size)
        {
            if (offset > length || size > length - offset || size > (ulong)Array.MaxLength) return null;
            var buffer = GC.AllocateUninitializedArray<byte>((int)size);
            var done = 0;
            while (done < buffer.Length)
            {
                var n = RandomAccess.Read(handle, buffer.AsSpan(done), (long)offset + done);
                if (n <= 0) return null;
                done += n;
            }
            return buffer;
        }

        var machine = (ElfMachine)U16(header, 18);
        var type = (ElfFileType)U16(header, 16);
        var shoff = Word(header, is64 ? 0x28 : 0x20);
        var shentsize = U16(header, is64 ? 0x3a : 0x2e);
        ulong shnum = U16(header, is64 ? 0x3c : 0x30);
        uint shstrndx = U16(header, is64 ? 0x3e : 0x32);
        var headerSize = is64 ? 64 : 40;
        string Fail(string what)
        {
            diagnostics.Error(DwarfCodes.UnreadableFile, $"malformed ELF file '{path}': {what}", path);
            return what;
        }
        if (shoff == 0 || shentsize < headerSize || shoff > length) { Fail("no valid section header table"); return null; }
        if (shnum == 0 || shstrndx == ElfSectionIndex.XIndex)
        {
            if (Read(shoff, (ulong)headerSize) is not { } zero) { Fail("section header 0 is outside the file"); return null; }
            if (shnum == 0) shnum = Word(zero, is64 ? 0x20 : 0x14);
            if (shstrndx == ElfSectionIndex.XIndex) shstrndx = U32(zero, is64 ? 0x28 : 0x18);
        }
        if (shnum > (length - shoff) / shentsize || Read(shoff, shnum * shentsize) is not { } table) { Fail("the section header table runs past the end of the file"); return null; }
        var count = (int)shnum;
        var headers = new (uint Name, uint Type, ulong Flags, ulong Offset, ulong Size)[count];
        for (var i = 0; i < count; i++)
        {
            var h = table.AsSpan(i * shentsize, headerSize);
            headers[i] = is64
                ? (U32(h, 0), U32(h, 4), U64(h, 8), U64(h, 0x18), U64(h, 0x20))
                : (U32(h, 0), U32(h, 4), U32(h, 8), U32(h, 0x10), U32(h, 0x14));
        }
        if (shstrndx >= shnum || Read(headers[shstrndx].Offset, headers[shstrndx].Size) is not { } names) { Fail("no section name table"); return null; }

        var found = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        for (var i = 1; i < count; i++)
        {
            var name = CString(names, headers[i].Name);
            if (Array.IndexOf(SectionNames, name) < 0 || found.ContainsKey(name) || headers[i].Type == (uint)ElfSectionType.NoBits) continue;
            if (Read(headers[i].Offset, headers[i].Size) is not { } bytes) { Fail($"section {name} runs past the end of the file"); return null; }
            if ((headers[i].Flags & (ulong)ElfSectionFlags.Compressed) != 0)
            {
                if (Decompress(bytes, is64, big, path, name, diagnostics) is not { } inflated) continue;
                bytes = inflated;
            }
            found[name] = bytes;
        }
        if (!found.ContainsKey(".debug_info"))
        {
            diagnostics.Error(DwarfCodes.NoDebugInfo, $"'{path}' has no .debug_info section: it was built without debug information or stripped", path);
            return null;
        }
        return Make(path, big, is64, machine, type, n => found.TryGetValue(n, out var b) ? b : ReadOnlyMemory<byte>.Empty);
    }

    /// <summary>The debug sections of a file read by <see cref="ElfReader"/>; relocatable objects get their .rela.debug_* applied.</summary>
    public static DwarfSections? FromElf(ElfFile elf, DiagnosticBag diagnostics)
    {
        var found = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        var sources = new Dictionary<string, ElfRawSection>(StringComparer.Ordinal);
        foreach (var section in elf.Sections)
        {
            if (section is not ElfRawSection raw || Array.IndexOf(SectionNames, section.Name) < 0 || found.ContainsKey(section.Name)) continue;
            var bytes = raw.Data;
            if (section.Flags.HasFlag(ElfSectionFlags.Compressed))
            {
                if (Decompress(bytes.ToArray(), elf.Is64, elf.IsBigEndian, elf.Name, section.Name, diagnostics) is not { } inflated) continue;
                bytes = inflated;
            }
            found[section.Name] = bytes;
            sources[section.Name] = raw;
        }
        if (!found.ContainsKey(".debug_info"))
        {
            diagnostics.Error(DwarfCodes.NoDebugInfo, $"'{elf.Name}' has no .debug_info section: it was built without debug information or stripped", elf.Name);
            return null;
        }
        if (elf.Type == ElfFileType.Relocatable)
        {
            foreach (var (name, raw) in sources)
            {
                var tables = elf.Sections.OfType<ElfRelocationTable>().Where(t => t.Target == raw).ToList();
                if (tables.Count == 0) continue;
                var copy = found[name].ToArray();
                foreach (var relocations in tables) DwarfRelocator.Apply(elf, relocations, copy, name, diagnostics);
                found[name] = copy;
            }
        }
        return Make(elf.Name, elf.IsBigEndian, elf.Is64, elf.Machine, elf.Type, n => found.TryGetValue(n, out var b) ? b : ReadOnlyMemory<byte>.Empty);
    }

    private static byte[]? Decompress(byte[] bytes, bool is64, bool big, string path, string name, DiagnosticBag diagnostics)
    {
        var headerSize = is64 ? 24 : 12;
        if (bytes.Length < headerSize)
        {
            diagnostics.Error(DwarfCodes.UnsupportedCompression, $"compressed section {name} of '{path}' is shorter than its header", path);
            return null;
        }
        uint U32(int at) => big ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
        var kind = U32(0);
        var size = is64 ? (big ? BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(8)) : BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8))) : U32(4);
        if (kind != 1 || size > int.MaxValue || size > (ulong)bytes.Length * 1100) // ELFCOMPRESS_ZLIB only; zlib cannot expand more than ~1032x
        {
            diagnostics.Error(DwarfCodes.UnsupportedCompression,
                $"section {name} of '{path}' is compressed with type {kind} (size {size}): only zlib (ELFCOMPRESS_ZLIB) is supported; rebuild with --compress-debug-sections=zlib or none", path);
            return null;
        }
        try
        {
            var output = new byte[size];
            using var zlib = new ZLibStream(new MemoryStream(bytes, headerSize, bytes.Length - headerSize), CompressionMode.Decompress);
            zlib.ReadExactly(output);
            return output;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            diagnostics.Error(DwarfCodes.UnsupportedCompression, $"compressed section {name} of '{path}' does not inflate: {e.Message}", path);
            return null;
        }
    }

    private static string CString(ReadOnlySpan<byte> table, uint offset)
    {
        if (offset >= (uint)table.Length) return "";
        var rest = table[(int)offset..];
        var end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }
}
