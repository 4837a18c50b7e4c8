namespace Klp.Build.Elf;

/// <summary>Where each part of a file goes when written.</summary>
internal sealed class ElfLayout
{
    public required Dictionary<ElfSection, ulong> Offsets { get; init; }
    public required ulong ProgramHeaderOffset { get; init; }
    public required ulong SectionHeaderOffset { get; init; }
    public required bool HasSectionHeaders { get; init; }
    public required ulong Length { get; init; }
    public required IReadOnlyList<(ulong Offset, ReadOnlyMemory<byte> Bytes)> Fillers { get; init; }

    /// <summary>
    /// An unchanged file keeps its original offsets and gap bytes. A linked image (with program headers) keeps every
    /// section that still fits in place and appends the others. Anything else is packed in section order, aligned.
    /// </summary>
    public static ElfLayout Compute(ElfFile file)
    {
        var e = file.Encoding;
        var original = file.Original;
        var offsets = new Dictionary<ElfSection, ulong>(ReferenceEqualityComparer.Instance);
        var hasHeaders = file.Sections.Count > 0 || original is { SectionHeaderOffset: > 0 };
        var headerTableSize = hasHeaders ? (ulong)(file.Sections.Count + 1) * (ulong)e.SectionHeaderSize : 0;

        if (original is not null && IsUnchanged(file, original))
        {
            foreach (var s in file.Sections) offsets[s] = s.OriginalOffset;
            return new ElfLayout
            {
                Offsets = offsets, ProgramHeaderOffset = original.ProgramHeaderOffset,
                SectionHeaderOffset = original.SectionHeaderOffset, HasSectionHeaders = hasHeaders,
                Length = original.FileLength, Fillers = original.Fillers,
            };
        }

        if (original is not null && file.ProgramHeaderCount > 0)
        {
            var kept = new HashSet<ElfSection>(original.Sections, ReferenceEqualityComparer.Instance);
            var position = original.FileLength;
            foreach (var s in file.Sections)
            {
                if (kept.Contains(s) && (!s.HasFileContent || s.Size <= s.OriginalSize)) offsets[s] = s.OriginalOffset;
                else position = Place(s, position, offsets);
            }
            var shoff = Align(position, (ulong)e.AddressSize);
            return new ElfLayout
            {
                Offsets = offsets, ProgramHeaderOffset = original.ProgramHeaderOffset, SectionHeaderOffset = shoff,
                HasSectionHeaders = hasHeaders, Length = Add(shoff, headerTableSize), Fillers = original.Fillers,
            };
        }

        ulong at = (ulong)e.HeaderSize;
        ulong phoff = 0;
        if (file.ProgramHeaderTable.Length > 0)
        {
            phoff = Align(at, (ulong)e.AddressSize);
            at = phoff + (ulong)file.ProgramHeaderTable.Length;
        }
        foreach (var s in file.Sections) at = Place(s, at, offsets);
        var tableOffset = hasHeaders ? Align(at, (ulong)e.AddressSize) : 0;
        return new ElfLayout
        {
            Offsets = offsets, ProgramHeaderOffset = phoff, SectionHeaderOffset = tableOffset,
            HasSectionHeaders = hasHeaders, Length = hasHeaders ? Add(tableOffset, headerTableSize) : at, Fillers = [],
        };
    }

    private static ulong Place(ElfSection s, ulong position, Dictionary<ElfSection, ulong> offsets)
    {
        var offset = Align(position, s.Alignment);
        offsets[s] = offset;
        return s.HasFileContent ? Add(offset, s.Size) : position;
    }

    private static bool IsUnchanged(ElfFile file, ElfOriginalLayout original)
    {
        if (file.Sections.Count != original.Sections.Length) return false;
        for (var i = 0; i < original.Sections.Length; i++)
        {
            var s = file.Sections[i];
            if (!ReferenceEquals(s, original.Sections[i])) return false;
            if (s.HasFileContent && s.Size != s.OriginalSize) return false;
        }
        return true;
    }

    /// <summary>Rounds up; saturates at ulong.MaxValue instead of wrapping (absurd alignments from bad input).</summary>
    public static ulong Align(ulong value, ulong alignment)
    {
        if (alignment <= 1) return value;
        var remainder = value % alignment;
        if (remainder == 0) return value;
        var add = alignment - remainder;
        return value > ulong.MaxValue - add ? ulong.MaxValue : value + add;
    }

    private static ulong Add(ulong a, ulong b) => a > ulong.MaxValue - b ? ulong.MaxValue : a + b;
}
