using Klp.Build.Diagnostics;

namespace Klp.Build.Elf;

/// <summary>
/// Writes an <see cref="ElfFile"/>: verify (references stay inside the file) → layout (original offsets for an
/// unchanged file, so read → write is byte-identical) → write.
/// </summary>
public static class ElfWriter
{
    /// <summary>The file model cannot be written (a dangling reference, a missing table...).</summary>
    public const string InvalidCode = "KLP3002";

    /// <summary>Writing the output file failed.</summary>
    public const string WriteFailedCode = "KLP3004";

    private static readonly byte[] Zeros = new byte[64 * 1024];

    /// <summary>Writes to a stream (which must be seekable when sections overlap). False when verification failed.</summary>
    public static bool Write(ElfFile file, Stream output, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(output);
        if (!Prepare(file, diagnostics)) return false;
        var layout = ElfLayout.Compute(file);
        if (layout.Length > (ulong)Array.MaxLength)
        {
            var widest = file.Sections.MaxBy(s => s.Alignment);
            diagnostics.Error(InvalidCode, $"cannot write ELF file '{file.Name}': the layout would need 0x{layout.Length:x} bytes, more than 2 GiB" +
                (widest is null ? "" : $" (largest alignment: {widest}, 0x{widest.Alignment:x})"), file.Name);
            return false;
        }
        Emit(file, layout, output);
        return true;
    }

    /// <summary>The file as bytes, or null when verification failed.</summary>
    public static byte[]? ToBytes(ElfFile file, DiagnosticBag diagnostics)
    {
        using var stream = new MemoryStream();
        return Write(file, stream, diagnostics) ? stream.ToArray() : null;
    }

    /// <summary>Writes to <paramref name="path"/> atomically: a temporary file in the same directory, then a rename.</summary>
    public static bool WriteFile(ElfFile file, string path, DiagnosticBag diagnostics)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                if (!Write(file, stream, diagnostics)) return false;
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(WriteFailedCode, $"cannot write ELF file '{path}': {e.Message}", path);
            return false;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Verifies, then settles what layout depends on: symbol order, name offsets, entry sizes.</summary>
    private static bool Prepare(ElfFile file, DiagnosticBag diagnostics)
    {
        var faults = ElfVerifier.Verify(file);
        if (faults.Count > 0)
        {
            foreach (var fault in faults.Take(20))
                diagnostics.Error(InvalidCode, $"cannot write ELF file '{file.Name}': {fault}", file.Name);
            return false;
        }

        var e = file.Encoding;
        foreach (var section in file.Sections)
        {
            switch (section)
            {
                case ElfSymbolTable table:
                    if (table.IsModified) table.SortLocalsFirst();
                    section.EntrySize = (ulong)e.SymbolSize;
                    var strings = table.Strings!;
                    foreach (var symbol in table.Symbols)
                    {
                        if (symbol.NameAtRead is not null && symbol.NameAtRead == symbol.Name) continue;
                        symbol.NameOffset = strings.GetOrAdd(symbol.Name);
                        symbol.NameAtRead = symbol.Name;
                    }
                    break;
                case ElfRelocationTable relocations:
                    section.EntrySize = (ulong)(relocations.HasAddends ? e.RelaSize : e.RelSize);
                    break;
                case ElfSymbolIndexTable or ElfGroupSection:
                    section.EntrySize = 4;
                    break;
            }
        }
        foreach (var section in file.Sections)
        {
            if (section.NameAtRead is not null && section.NameAtRead == section.Name) continue;
            section.NameOffset = file.SectionNames?.GetOrAdd(section.Name) ?? 0;
            section.NameAtRead = section.Name;
        }
        return true;
    }

    private static void Emit(ElfFile file, ElfLayout layout, Stream output)
    {
        var e = file.Encoding;
        var parts = new List<(ulong Offset, Action Write)>
        {
            (0, () => output.Write(Header(file, layout))),
        };
        if (file.ProgramHeaderTable.Length > 0)
            parts.Add((layout.ProgramHeaderOffset, () => output.Write(file.ProgramHeaderTable.Span)));
        foreach (var (offset, bytes) in layout.Fillers)
            parts.Add((offset, () => output.Write(bytes.Span)));
        foreach (var section in file.Sections)
        {
            if (!section.HasFileContent || section.Size == 0) continue;
            var s = section;
            parts.Add((layout.Offsets[s], () =>
            {
                var before = output.Position;
                s.WriteContent(e, output);
                if ((ulong)(output.Position - before) != s.Size)
                    throw new InvalidOperationException($"{s} wrote {output.Position - before} bytes, expected {s.Size}");
            }));
        }
        if (layout.HasSectionHeaders)
            parts.Add((layout.SectionHeaderOffset, () => output.Write(SectionHeaders(file, layout))));

        var start = output.Position;
        ulong end = 0;
        foreach (var (offset, write) in parts.OrderBy(p => p.Offset))
        {
            var position = (ulong)(output.Position - start);
            if (offset > position) Pad(output, offset - position);
            else if (offset < position) output.Seek(start + (long)offset, SeekOrigin.Begin);
            write();
            end = Math.Max(end, (ulong)(output.Position - start));
        }
        if ((ulong)(output.Position - start) != end) output.Seek(start + (long)end, SeekOrigin.Begin);
        if (layout.Length > end) Pad(output, layout.Length - end);
    }

    private static void Pad(Stream output, ulong count)
    {
        while (count > 0)
        {
            var n = (int)Math.Min(count, (ulong)Zeros.Length);
            output.Write(Zeros, 0, n);
            count -= (ulong)n;
        }
    }

    private static byte[] Header(ElfFile file, ElfLayout layout)
    {
        var e = file.Encoding;
        var original = file.Original;
        var h = new byte[e.HeaderSize];
        file.Identification.CopyTo(h);
        e.U16(h, 16, (ushort)file.Type);
        e.U16(h, 18, (ushort)file.Machine);
        e.U32(h, 20, file.Version);
        var o = 24;
        e.Word(h, o, file.Entry);
        o += e.AddressSize;
        e.Word(h, o, layout.ProgramHeaderOffset);
        o += e.AddressSize;
        e.Word(h, o, layout.HasSectionHeaders ? layout.SectionHeaderOffset : 0);
        o += e.AddressSize;
        e.U32(h, o, file.Flags);
        e.U16(h, o + 4, original?.HeaderSize ?? (ushort)e.HeaderSize);
        e.U16(h, o + 6, original is { ProgramHeaderEntrySize: not 0 } ? original.ProgramHeaderEntrySize : file.ProgramHeaderCount > 0 ? (ushort)e.ProgramHeaderSize : (ushort)0);
        e.U16(h, o + 8, (ushort)file.ProgramHeaderCount);
        var count = file.Sections.Count + 1;
        var shentsize = original is { SectionHeaderEntrySize: not 0 } ? original.SectionHeaderEntrySize : layout.HasSectionHeaders ? (ushort)e.SectionHeaderSize : (ushort)0;
        e.U16(h, o + 10, shentsize);
        e.U16(h, o + 12, !layout.HasSectionHeaders ? (ushort)0 : count >= ElfSectionIndex.LoReserve ? (ushort)0 : (ushort)count);
        var names = file.SectionNames?.Index ?? 0;
        e.U16(h, o + 14, names >= ElfSectionIndex.LoReserve ? ElfSectionIndex.XIndex : (ushort)names);
        return h;
    }

    private static byte[] SectionHeaders(ElfFile file, ElfLayout layout)
    {
        var e = file.Encoding;
        var size = e.SectionHeaderSize;
        var count = file.Sections.Count + 1;
        var table = new byte[count * size];

        // Section 0: as read, with the extended section count and name table index when they are needed.
        var original = file.Original;
        if (original is not null && original.NullSectionHeader.Length == size) original.NullSectionHeader.Span.CopyTo(table);
        var names = file.SectionNames?.Index ?? 0;
        var keepSize = original is not null && original.SectionCountField == 0;
        var keepLink = original is not null && original.SectionNamesIndexField == ElfSectionIndex.XIndex;
        if (count >= ElfSectionIndex.LoReserve) WriteSizeField(e, table, (ulong)count);
        else if (!keepSize) WriteSizeField(e, table, 0);
        if (names >= ElfSectionIndex.LoReserve) e.U32(table, e.Is64 ? 40 : 24, (uint)names);
        else if (!keepLink) e.U32(table, e.Is64 ? 40 : 24, 0);

        foreach (var s in file.Sections)
        {
            var h = table.AsSpan(s.Index * size, size);
            var link = (uint)(s.Link?.Index ?? 0);
            var info = s.ComputeInfo();
            var offset = layout.Offsets[s];
            if (e.Is64)
            {
                e.U32(h, 0, s.NameOffset);
                e.U32(h, 4, (uint)s.Type);
                e.U64(h, 8, (ulong)s.Flags);
                e.U64(h, 16, s.Address);
                e.U64(h, 24, offset);
                e.U64(h, 32, s.Size);
                e.U32(h, 40, link);
                e.U32(h, 44, info);
                e.U64(h, 48, s.Alignment);
                e.U64(h, 56, s.EntrySize);
            }
            else
            {
                e.U32(h, 0, s.NameOffset);
                e.U32(h, 4, (uint)s.Type);
                e.U32(h, 8, (uint)s.Flags);
                e.U32(h, 12, (uint)s.Address);
                e.U32(h, 16, (uint)offset);
                e.U32(h, 20, (uint)s.Size);
                e.U32(h, 24, link);
                e.U32(h, 28, info);
                e.U32(h, 32, (uint)s.Alignment);
                e.U32(h, 36, (uint)s.EntrySize);
            }
        }
        return table;
    }

    private static void WriteSizeField(ElfEncoding e, byte[] table, ulong value) => e.Word(table, e.Is64 ? 32 : 20, value);
}
