namespace Klp.Build.Elf;

/// <summary>One program header (segment) of a linked image, as read. The table is kept as raw bytes when writing.</summary>
public sealed record ElfProgramHeader(
    uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong PhysicalAddress,
    ulong FileSize, ulong MemorySize, ulong Alignment)
{
    public const uint Load = 1;
    public const uint Note = 4;

    internal static ElfProgramHeader Decode(ElfEncoding e, ReadOnlySpan<byte> s) => e.Is64
        ? new(e.U32(s, 0), e.U32(s, 4), e.U64(s, 8), e.U64(s, 16), e.U64(s, 24), e.U64(s, 32), e.U64(s, 40), e.U64(s, 48))
        : new(e.U32(s, 0), e.U32(s, 24), e.U32(s, 4), e.U32(s, 8), e.U32(s, 12), e.U32(s, 16), e.U32(s, 20), e.U32(s, 28));
}
