using System.Text;

namespace Klp.Build.Dwarf;

/// <summary>
/// The index's strings, sorted ordinally so that ids compare like the strings. Kept as UTF-8 bytes with offsets
/// and decoded on first use: a warm load never decodes the hundreds of thousands of names it does not touch.
/// </summary>
internal sealed class DwarfStringPool
{
    private readonly byte[] _bytes;
    private readonly int[] _offsets; // Count + 1 entries
    private readonly string?[] _decoded;

    private DwarfStringPool(byte[] bytes, int[] offsets, string?[] decoded)
    {
        _bytes = bytes;
        _offsets = offsets;
        _decoded = decoded;
    }

    public int Count => _offsets.Length - 1;
    internal ReadOnlySpan<byte> Bytes => _bytes;
    internal ReadOnlySpan<int> Offsets => _offsets;

    public static DwarfStringPool FromStrings(string[] sorted)
    {
        var offsets = new int[sorted.Length + 1];
        var total = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            offsets[i] = total;
            total += Encoding.UTF8.GetByteCount(sorted[i]);
        }
        offsets[sorted.Length] = total;
        var bytes = new byte[total];
        for (var i = 0; i < sorted.Length; i++) Encoding.UTF8.GetBytes(sorted[i], bytes.AsSpan(offsets[i]));
        return new DwarfStringPool(bytes, offsets, (string?[])sorted.Clone());
    }

    /// <summary>A pool read from the cache file; null when the offsets are inconsistent.</summary>
    public static DwarfStringPool? FromBytes(byte[] bytes, int[] offsets)
    {
        if (offsets.Length == 0 || offsets[0] != 0 || offsets[^1] != bytes.Length) return null;
        for (var i = 1; i < offsets.Length; i++)
            if (offsets[i] < offsets[i - 1]) return null;
        return new DwarfStringPool(bytes, offsets, new string?[offsets.Length - 1]);
    }

    public string this[int id]
    {
        get
        {
            if ((uint)id >= (uint)Count) return "";
            return _decoded[id] ??= Encoding.UTF8.GetString(_bytes, _offsets[id], _offsets[id + 1] - _offsets[id]);
        }
    }

    /// <summary>The id of a string, or -1 when the pool does not hold it (binary search: ids are in ordinal order).</summary>
    public int Find(string text)
    {
        int lo = 0, hi = Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var cmp = string.CompareOrdinal(this[mid], text);
            if (cmp == 0) return mid;
            if (cmp < 0) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }
}
