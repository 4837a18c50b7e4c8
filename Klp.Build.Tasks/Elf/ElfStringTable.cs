using System.Text;

namespace Klp.Build.Elf;

/// <summary>SHT_STRTAB: NUL-terminated strings. Read bytes stay as they are; new strings are appended.</summary>
public sealed class ElfStringTable : ElfSection
{
    private ReadOnlyMemory<byte> _original;
    private readonly MemoryStream _appended = new();
    private Dictionary<string, uint>? _lookup;

    public ElfStringTable() : base(ElfSectionType.StringTable) { }

    internal ElfStringTable(ReadOnlyMemory<byte> data) : base(ElfSectionType.StringTable) => _original = data;

    public override ulong Size => (ulong)_original.Length + (ulong)_appended.Length;

    /// <summary>The string starting at <paramref name="offset"/>, or null when the offset is out of range or unterminated.</summary>
    public string? TryGetString(uint offset)
    {
        if (offset < (uint)_original.Length)
        {
            var span = _original.Span[(int)offset..];
            var end = span.IndexOf((byte)0);
            return end < 0 ? null : Encoding.UTF8.GetString(span[..end]);
        }
        var at = (long)offset - _original.Length;
        if (at >= _appended.Length) return null;
        var tail = _appended.GetBuffer().AsSpan((int)at, (int)(_appended.Length - at));
        var stop = tail.IndexOf((byte)0);
        return stop < 0 ? null : Encoding.UTF8.GetString(tail[..stop]);
    }

    /// <summary>The offset of <paramref name="value"/>, appending it when no string of the table equals it.</summary>
    public uint GetOrAdd(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0')) throw new ArgumentException("A string table entry cannot contain NUL.", nameof(value));
        _lookup ??= BuildLookup();
        if (_lookup.TryGetValue(value, out var found)) return found;
        if (Size == 0) Append(""); // index 0 is always the empty string
        if (value.Length == 0) return 0;
        return Append(value);
    }

    private uint Append(string value)
    {
        var offset = (uint)Size;
        var bytes = Encoding.UTF8.GetBytes(value);
        _appended.Write(bytes);
        _appended.WriteByte(0);
        _lookup?.TryAdd(value, offset);
        return offset;
    }

    private Dictionary<string, uint> BuildLookup()
    {
        var lookup = new Dictionary<string, uint>(StringComparer.Ordinal);
        var span = _original.Span;
        var start = 0;
        while (start < span.Length)
        {
            var end = span[start..].IndexOf((byte)0);
            if (end < 0) break;
            lookup.TryAdd(Encoding.UTF8.GetString(span.Slice(start, end)), (uint)start);
            start += end + 1;
        }
        return lookup;
    }

    internal override void WriteContent(ElfEncoding encoding, Stream output)
    {
        output.Write(_original.Span);
        output.Write(_appended.GetBuffer(), 0, (int)_appended.Length);
    }
}
