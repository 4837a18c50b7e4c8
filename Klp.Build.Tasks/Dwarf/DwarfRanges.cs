namespace Klp.Build.Dwarf;

/// <summary>An address range [Start, End).</summary>
public readonly record struct DwarfAddressRange(ulong Start, ulong End)
{
    public bool Contains(ulong address) => address >= Start && address < End;
    public override string ToString() => $"[0x{Start:x}, 0x{End:x})";
}

/// <summary>Address ranges of DIEs: low_pc/high_pc, DWARF 5 range lists (.debug_rnglists) and DWARF 2-4 .debug_ranges.</summary>
internal static class DwarfRanges
{
    private const int MaxEntries = 1 << 20;

    /// <summary>Appends the DIE's ranges (empty ones dropped) to output.</summary>
    public static void Read(DwarfFile file, DwarfUnit u, in DieAttributes d, List<DwarfAddressRange> output)
    {
        if (d.HasRanges)
        {
            if (u.Version >= 5) ReadRnglist(file, u, d.Ranges, output);
            else ReadRanges(file, u, d.Ranges.U, output);
        }
        else if (d.HasLowPc)
        {
            var low = file.Address(u, d.LowPc);
            if (!d.HasHighPc) return;
            var high = d.HighPc.IsConstantClass ? low + d.HighPc.U : file.Address(u, d.HighPc);
            if (high > low) output.Add(new DwarfAddressRange(low, high));
        }
    }

    private static void ReadRnglist(DwarfFile file, DwarfUnit u, in DwarfValue v, List<DwarfAddressRange> output)
    {
        var c = new DwarfCursor(file.Sections.Rnglists.Span, file.BigEndian, ".debug_rnglists");
        ulong offset;
        if (v.Form == DwForm.Rnglistx)
        {
            var at = u.RnglistsBase + v.U * (ulong)u.OffsetSize;
            if (v.U > int.MaxValue || at > (ulong)c.Length)
                throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"range list index {v.U} is outside .debug_rnglists");
            c.Seek(at);
            offset = u.RnglistsBase + c.Sized(u.OffsetSize);
        }
        else offset = v.U;
        c.Seek(offset);
        var baseAddress = u.BaseAddress;
        for (var n = 0; n < MaxEntries; n++)
        {
            var kind = c.U8();
            ulong start, end;
            switch (kind)
            {
                case 0: return; // DW_RLE_end_of_list
                case 1: baseAddress = file.IndexedAddress(u, c.Uleb()); continue; // base_addressx
                case 2: start = file.IndexedAddress(u, c.Uleb()); end = file.IndexedAddress(u, c.Uleb()); break; // startx_endx
                case 3: start = file.IndexedAddress(u, c.Uleb()); end = start + c.Uleb(); break; // startx_length
                case 4: start = baseAddress + c.Uleb(); end = baseAddress + c.Uleb(); break; // offset_pair
                case 5: baseAddress = c.Sized(u.AddressSize); continue; // base_address
                case 6: start = c.Sized(u.AddressSize); end = c.Sized(u.AddressSize); break; // start_end
                case 7: start = c.Sized(u.AddressSize); end = start + c.Uleb(); break; // start_length
                default:
                    throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $".debug_rnglists: unknown range list entry kind {kind} at 0x{c.Position - 1:x}");
            }
            if (end > start) output.Add(new DwarfAddressRange(start, end));
        }
    }

    private static void ReadRanges(DwarfFile file, DwarfUnit u, ulong offset, List<DwarfAddressRange> output)
    {
        var c = new DwarfCursor(file.Sections.Ranges.Span, file.BigEndian, ".debug_ranges");
        c.Seek(offset);
        var max = u.AddressSize == 8 ? ulong.MaxValue : (1UL << (u.AddressSize * 8)) - 1;
        var baseAddress = u.BaseAddress;
        for (var n = 0; n < MaxEntries; n++)
        {
            var start = c.Sized(u.AddressSize);
            var end = c.Sized(u.AddressSize);
            if (start == 0 && end == 0) return;
            if (start == max)
            {
                baseAddress = end;
                continue;
            }
            if (end > start) output.Add(new DwarfAddressRange(baseAddress + start, baseAddress + end));
        }
    }
}
