using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Klp.Build.Dwarf;

/// <summary>
/// The cache file form of a <see cref="DwarfIndex"/>: its row arrays as they are in memory, read straight into
/// arrays (one copy, no parsing), with the key of the input it was made from. Strings stay UTF-8 until used.
/// Layout (little endian): "KLPDWARF", u32 version, u32 row sizes ×6, u16+UTF-8 key; then arrays, each u64
/// element count + elements: string offsets, string bytes, units, functions, parameters, inlined copies,
/// ranges, by-name order, by-callee order, address table. Anything inconsistent makes the read return null.
/// </summary>
internal static class DwarfIndexBinary
{
    private static readonly byte[] Magic = "KLPDWARF"u8.ToArray();
    public const uint FormatVersion = 1;

    private static uint[] RowSizes =>
    [
        (uint)Unsafe.SizeOf<UnitRow>(), (uint)Unsafe.SizeOf<FunctionRow>(), (uint)Unsafe.SizeOf<ParameterRow>(),
        (uint)Unsafe.SizeOf<InlinedRow>(), (uint)Unsafe.SizeOf<DwarfAddressRange>(), (uint)Unsafe.SizeOf<DwarfIndex.AddressEntry>(),
    ];

    public static void Write(DwarfIndex index, string key, Stream stream)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the DWARF index cache is written on little-endian hosts only");
        var header = new MemoryStream();
        header.Write(Magic);
        Span<byte> word = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(word, FormatVersion);
        header.Write(word[..4]);
        foreach (var size in RowSizes)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(word, size);
            header.Write(word[..4]);
        }
        var keyBytes = Encoding.UTF8.GetBytes(key);
        BinaryPrimitives.WriteUInt16LittleEndian(word, (ushort)keyBytes.Length);
        header.Write(word[..2]);
        header.Write(keyBytes);
        stream.Write(header.ToArray());
        Array(stream, index.Strings.Offsets);
        Array(stream, index.Strings.Bytes);
        Array<UnitRow>(stream, index.UnitRows);
        Array<FunctionRow>(stream, index.FunctionRows);
        Array<ParameterRow>(stream, index.ParameterRows);
        Array<InlinedRow>(stream, index.InlinedRows);
        Array<DwarfAddressRange>(stream, index.RangeRows);
        Array<int>(stream, index.ByName);
        Array<int>(stream, index.ByCallee);
        Array<DwarfIndex.AddressEntry>(stream, index.ByAddress);
    }

    private static void Array<T>(Stream stream, ReadOnlySpan<T> items) where T : unmanaged
    {
        Span<byte> count = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(count, (ulong)items.Length);
        stream.Write(count);
        stream.Write(MemoryMarshal.AsBytes(items));
    }

    /// <summary>The key stored in the file, or null when there is no readable file of this format.</summary>
    public static string? ReadKey(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path);
            var reader = new Reader(handle, RandomAccess.GetLength(handle));
            return reader.Header();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The index stored in the file and its key; null when the file is missing, of another format, or damaged.</summary>
    public static DwarfIndex? Read(string path, out string? key)
    {
        key = null;
        try
        {
            using var handle = File.OpenHandle(path);
            var reader = new Reader(handle, RandomAccess.GetLength(handle));
            key = reader.Header();
            if (key is null) return null;
            var offsets = reader.Array<int>();
            var bytes = reader.Array<byte>();
            var units = reader.Array<UnitRow>();
            var functions = reader.Array<FunctionRow>();
            var parameters = reader.Array<ParameterRow>();
            var inlined = reader.Array<InlinedRow>();
            var ranges = reader.Array<DwarfAddressRange>();
            var byName = reader.Array<int>();
            var byCallee = reader.Array<int>();
            var byAddress = reader.Array<DwarfIndex.AddressEntry>();
            if (byAddress is null || !reader.AtEnd) return null;
            var pool = DwarfStringPool.FromBytes(bytes!, offsets!);
            return pool is null ? null : DwarfIndex.FromStorage(pool, units!, functions!, parameters!, inlined!, ranges!, byName!, byCallee!, byAddress);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            return null;
        }
    }

    private sealed class Reader(SafeFileHandle handle, long length)
    {
        private long _position;
        private bool _failed;

        public bool AtEnd => !_failed && _position == length;

        private bool Fill(Span<byte> buffer)
        {
            if (_failed || buffer.Length > length - _position) return !(_failed = true);
            var done = 0;
            while (done < buffer.Length)
            {
                var n = RandomAccess.Read(handle, buffer[done..], _position + done);
                if (n <= 0) return !(_failed = true);
                done += n;
            }
            _position += buffer.Length;
            return true;
        }

        public string? Header()
        {
            Span<byte> fixedPart = stackalloc byte[8 + 4 + 4 * 6 + 2];
            if (!Fill(fixedPart) || !fixedPart[..8].SequenceEqual(Magic)) return null;
            if (BinaryPrimitives.ReadUInt32LittleEndian(fixedPart[8..]) != FormatVersion) return null;
            var sizes = RowSizes;
            for (var i = 0; i < sizes.Length; i++)
                if (BinaryPrimitives.ReadUInt32LittleEndian(fixedPart[(12 + 4 * i)..]) != sizes[i]) return null;
            var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[36..]);
            var key = new byte[keyLength];
            return Fill(key) ? Encoding.UTF8.GetString(key) : null;
        }

        public T[]? Array<T>() where T : unmanaged
        {
            Span<byte> count = stackalloc byte[8];
            if (!Fill(count)) return null;
            var n = BinaryPrimitives.ReadUInt64LittleEndian(count);
            var size = (ulong)Unsafe.SizeOf<T>();
            // Never allocate more than the file can fill.
            if (n > (ulong)(length - _position) / size || n > (ulong)System.Array.MaxLength)
            {
                _failed = true;
                return null;
            }
            var items = GC.AllocateUninitializedArray<T>((int)n);
            return Fill(MemoryMarshal.AsBytes(items.AsSpan())) ? items : null;
        }
    }
}
