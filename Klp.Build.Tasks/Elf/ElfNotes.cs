using System.Text;
using Klp.Build.Diagnostics;

namespace Klp.Build.Elf;

/// <summary>One note of a SHT_NOTE section (.note.gnu.build-id, .note.Linux...).</summary>
public sealed record ElfNote(string Name, uint Type, ReadOnlyMemory<byte> Descriptor)
{
    public const uint GnuBuildId = 3;

    /// <summary>The descriptor as lowercase hex (e.g. a build id).</summary>
    public string DescriptorHex => Convert.ToHexStringLower(Descriptor.Span);
}

/// <summary>Reads the notes of SHT_NOTE sections: namesz, descsz, type, name, desc, padded to 4 (or 8 when aligned so).</summary>
public static class ElfNotes
{
    public static IReadOnlyList<ElfNote> Read(ElfFile file, ElfSection section, DiagnosticBag diagnostics)
    {
        var notes = new List<ElfNote>();
        if (section is not ElfRawSection raw) return notes;
        var e = file.Encoding;
        var data = raw.Data;
        var align = section.Alignment == 8 ? 8 : 4;
        var at = 0;
        while (at < data.Length)
        {
            if (data.Length - at < 12)
            {
                diagnostics.Error(ElfReader.MalformedCode, $"malformed ELF file '{file.Name}': {section} has a truncated note header at offset 0x{at:x}", file.Name);
                break;
            }
            var span = data.Span;
            var nameSize = e.U32(span, at);
            var descSize = e.U32(span, at + 4);
            var type = e.U32(span, at + 8);
            var nameStart = (long)at + 12;
            var descStart = nameStart + AlignUp(nameSize, align);
            var next = descStart + AlignUp(descSize, align);
            if (nameStart + nameSize > data.Length || descStart + descSize > data.Length)
            {
                diagnostics.Error(ElfReader.MalformedCode, $"malformed ELF file '{file.Name}': note at offset 0x{at:x} of {section} (name size {nameSize}, descriptor size {descSize}) runs past the end of the section (size 0x{data.Length:x})", file.Name);
                break;
            }
            var nameBytes = span.Slice((int)nameStart, (int)nameSize);
            var nul = nameBytes.IndexOf((byte)0);
            var name = Encoding.UTF8.GetString(nul < 0 ? nameBytes : nameBytes[..nul]);
            notes.Add(new ElfNote(name, type, data.Slice((int)descStart, (int)descSize)));
            at = (int)Math.Min(next, data.Length);
        }
        return notes;
    }

    /// <summary>All notes of all SHT_NOTE sections, with the section each came from.</summary>
    public static IEnumerable<(ElfSection Section, ElfNote Note)> ReadAll(ElfFile file, DiagnosticBag diagnostics) =>
        file.Sections.Where(s => s.Type == ElfSectionType.Note)
            .SelectMany(s => Read(file, s, diagnostics).Select(n => (s, n)));

    private static long AlignUp(uint value, int align) => ((long)value + align - 1) / align * align;
}
