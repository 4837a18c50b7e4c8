using System.Buffers.Binary;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;

namespace Klp.Build.Dwarf;

/// <summary>
/// Applies the relocations of a relocatable object's debug section to a copy of its bytes: the absolute
/// 32/64-bit kinds compilers use in DWARF (S + A; for SHT_REL the addend is the value in place), and RISC-V's
/// ADD/SUB pairs. Symbols defined in a section count from that section's start (address 0 in an object file).
/// </summary>
internal static class DwarfRelocator
{
    private enum Kind { None, Abs32, Abs64, Add32, Add64, Sub32, Sub64, Unsupported }

    public static void Apply(ElfFile elf, ElfRelocationTable relocations, byte[] data, string sectionName, DiagnosticBag diagnostics)
    {
        var big = elf.IsBigEndian;
        var reported = 0;
        foreach (var r in relocations.Entries)
        {
            var kind = Classify(elf.Machine, r.Type);
            if (kind == Kind.None) continue;
            var width = kind is Kind.Abs64 or Kind.Add64 or Kind.Sub64 ? 8 : 4;
            if (kind == Kind.Unsupported || r.Offset > (ulong)data.Length || (ulong)data.Length - r.Offset < (ulong)width)
            {
                if (reported++ < 5)
                    diagnostics.Error(DwarfCodes.BadRelocation,
                        kind == Kind.Unsupported
                            ? $"relocation {ElfRelocationTypes.Describe(elf.Machine, r.Type)} at 0x{r.Offset:x} of {sectionName} is not one this DWARF reader applies"
                            : $"relocation at 0x{r.Offset:x} of {sectionName} lies outside the section (size 0x{data.Length:x})",
                        elf.Name);
                continue;
            }
            var span = data.AsSpan((int)r.Offset, width);
            var inPlace = width == 8
                ? big ? BinaryPrimitives.ReadUInt64BigEndian(span) : BinaryPrimitives.ReadUInt64LittleEndian(span)
                : big ? BinaryPrimitives.ReadUInt32BigEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span);
            var addend = relocations.HasAddends ? (ulong)r.Addend : inPlace;
            var symbol = r.Symbol is { } s && s.Section is not null || r.Symbol?.SpecialSectionIndex == ElfSectionIndex.Absolute ? r.Symbol!.Value : 0;
            var value = kind switch
            {
                Kind.Add32 or Kind.Add64 => inPlace + symbol + addend,
                Kind.Sub32 or Kind.Sub64 => inPlace - (symbol + addend),
                _ => symbol + addend,
            };
            if (width == 8)
            {
                if (big) BinaryPrimitives.WriteUInt64BigEndian(span, value); else BinaryPrimitives.WriteUInt64LittleEndian(span, value);
            }
            else
            {
                if (big) BinaryPrimitives.WriteUInt32BigEndian(span, (uint)value); else BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value);
            }
        }
    }

    private static Kind Classify(ElfMachine machine, uint type) => machine switch
    {
        ElfMachine.X86_64 => type switch { 0 => Kind.None, 1 => Kind.Abs64, 10 or 11 => Kind.Abs32, _ => Kind.Unsupported },
        ElfMachine.I386 => type switch { 0 => Kind.None, 1 => Kind.Abs32, _ => Kind.Unsupported },
        ElfMachine.AArch64 => type switch { 0 or 256 => Kind.None, 257 => Kind.Abs64, 258 => Kind.Abs32, _ => Kind.Unsupported },
        ElfMachine.Ppc64 => type switch { 0 => Kind.None, 38 => Kind.Abs64, 1 => Kind.Abs32, _ => Kind.Unsupported },
        ElfMachine.Ppc => type switch { 0 => Kind.None, 1 => Kind.Abs32, _ => Kind.Unsupported },
        ElfMachine.S390 => type switch { 0 => Kind.None, 22 => Kind.Abs64, 4 => Kind.Abs32, _ => Kind.Unsupported },
        ElfMachine.RiscV => type switch
        {
            0 => Kind.None, 2 => Kind.Abs64, 1 => Kind.Abs32, 35 => Kind.Add32, 36 => Kind.Add64, 39 => Kind.Sub32,
            40 => Kind.Sub64, 56 => Kind.Abs32, _ => Kind.Unsupported,
        },
        _ => Kind.Unsupported,
    };
}
