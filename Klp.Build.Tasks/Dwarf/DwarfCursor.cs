using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Klp.Build.Dwarf;

/// <summary>
/// Reads DWARF encodings from a section's bytes at a position. Every read is bounds-checked: running past the
/// end throws <see cref="DwarfFormatException"/>, which the unit-level code turns into a diagnostic.
/// </summary>
internal ref struct DwarfCursor(ReadOnlySpan<byte> data, bool bigEndian, string section)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private readonly bool _big = bigEndian;
    private readonly string _section = section;

    public int Position;

    public readonly int Length => _data.Length;
    public readonly int Remaining => _data.Length - Position;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Need(int count)
    {
        if ((uint)count > (uint)(_data.Length - Position)) Truncated(count);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void Truncated(int count) =>
        throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"{_section}: reading {count} byte(s) at offset 0x{Position:x} runs past the end of the section (size 0x{_data.Length:x})");

    public void Seek(ulong position)
    {
        if (position > (ulong)_data.Length)
            throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"{_section}: offset 0x{position:x} is outside the section (size 0x{_data.Length:x})");
        Position = (int)position;
    }

    public byte U8()
    {
        Need(1);
        return _data[Position++];
    }

    public ushort U16()
    {
        Need(2);
        var s = _data.Slice(Position, 2);
        Position += 2;
        return _big ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
    }

    public uint U24()
    {
        Need(3);
        var s = _data.Slice(Position, 3);
        Position += 3;
        return _big ? (uint)(s[0] << 16 | s[1] << 8 | s[2]) : (uint)(s[2] << 16 | s[1] << 8 | s[0]);
    }

    public uint U32()
    {
        Need(4);
        var s = _data.Slice(Position, 4);
        Position += 4;
        return _big ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    }

    public ulong U64()
    {
        Need(8);
        var s = _data.Slice(Position, 8);
        Position += 8;
        return _big ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s);
    }

    /// <summary>A 1, 2, 4 or 8 byte unsigned value (addresses, offsets).</summary>
    public ulong Sized(int size) => size switch
    {
        1 => U8(),
        2 => U16(),
        4 => U32(),
        8 => U64(),
        _ => throw new DwarfFormatException(DwarfCodes.MalformedUnit, $"{_section}: unsupported value size {size}"),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Uleb()
    {
        if (Position < _data.Length && _data[Position] < 0x80) return _data[Position++];
        return UlebSlow();
    }

    private ulong UlebSlow()
    {
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            Need(1);
            var b = _data[Position++];
            if (shift < 64) result |= (ulong)(b & 0x7f) << shift;
            shift += 7;
            if (b < 0x80) return result;
        }
    }

    public long Sleb()
    {
        long result = 0;
        var shift = 0;
        byte b;
        do
        {
            Need(1);
            b = _data[Position++];
            if (shift < 64) result |= (long)(b & 0x7f) << shift;
            shift += 7;
        } while (b >= 0x80);
        if (shift < 64 && (b & 0x40) != 0) result |= -1L << shift;
        return result;
    }

    public void Skip(ulong count)
    {
        if (count > (ulong)(_data.Length - Position)) Truncated(count > int.MaxValue ? int.MaxValue : (int)count);
        Position += (int)count;
    }

    /// <summary>Skips a NUL-terminated string, returning where it started.</summary>
    public int SkipCString()
    {
        var start = Position;
        var end = _data[Position..].IndexOf((byte)0);
        if (end < 0)
            throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"{_section}: the string at offset 0x{start:x} has no terminating NUL");
        Position += end + 1;
        return start;
    }

    public readonly ReadOnlySpan<byte> Slice(int start, int length) => _data.Slice(start, length);
}
