using System.Buffers.Binary;

namespace Klp.Build.Elf;

/// <summary>Word size and byte order of one file: reads and writes its fields.</summary>
internal readonly struct ElfEncoding(bool is64, bool bigEndian)
{
    public bool Is64 { get; } = is64;
    public bool BigEndian { get; } = bigEndian;

    public int HeaderSize => Is64 ? 64 : 52;
    public int ProgramHeaderSize => Is64 ? 56 : 32;
    public int SectionHeaderSize => Is64 ? 64 : 40;
    public int SymbolSize => Is64 ? 24 : 16;
    public int RelSize => Is64 ? 16 : 8;
    public int RelaSize => Is64 ? 24 : 12;
    public int AddressSize => Is64 ? 8 : 4;

    public ushort U16(ReadOnlySpan<byte> s, int at) =>
        BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);

    public uint U32(ReadOnlySpan<byte> s, int at) =>
        BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);

    public ulong U64(ReadOnlySpan<byte> s, int at) =>
        BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(s[at..]) : BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);

    /// <summary>An address-sized word (Elf32_Addr/Off/Word-sized fields or Elf64_Addr/Off/Xword).</summary>
    public ulong Word(ReadOnlySpan<byte> s, int at) => Is64 ? U64(s, at) : U32(s, at);

    public void U16(Span<byte> s, int at, ushort v)
    {
        if (BigEndian) BinaryPrimitives.WriteUInt16BigEndian(s[at..], v); else BinaryPrimitives.WriteUInt16LittleEndian(s[at..], v);
    }

    public void U32(Span<byte> s, int at, uint v)
    {
        if (BigEndian) BinaryPrimitives.WriteUInt32BigEndian(s[at..], v); else BinaryPrimitives.WriteUInt32LittleEndian(s[at..], v);
    }

    public void U64(Span<byte> s, int at, ulong v)
    {
        if (BigEndian) BinaryPrimitives.WriteUInt64BigEndian(s[at..], v); else BinaryPrimitives.WriteUInt64LittleEndian(s[at..], v);
    }

    public void Word(Span<byte> s, int at, ulong v)
    {
        if (Is64) U64(s, at, v); else U32(s, at, (uint)v);
    }
}
