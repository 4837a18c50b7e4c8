using System.Buffers.Binary;
using System.Text;

namespace Klp.Build.Symbols;

/// <summary>
/// A compact, lazily decoded file form of a <see cref="KernelSymbolMap"/> with everything the text form drops
/// (addresses, kinds, sections, unstable names) and the key of the inputs it was made from. Loading reads the
/// file and the object table only; an object's symbols are decoded the first time they are used, so a warm load
/// of a kernel with thousands of modules costs milliseconds. Symbol names are stored in map order, not
/// deduplicated (interning half a million names costs more than the bytes it saves).
/// Layout (little endian): "KLPSYMS\0", u32 version, u16+UTF-8 key;
/// u32 n pooled strings (object and section names), u32 offsets[n+1], bytes;
/// u32 objects × (u32 name, u32 first symbol, u32 count);
/// u32 symbols, u32 name offsets[symbols+1], name bytes, symbols × (u32 section or ~0, u64 address, u8 kind);
/// u32 unstable names × (u32 object, u32 pooled name).
/// </summary>
public static class SymbolMapBinary
{
    private static readonly byte[] Magic = "KLPSYMS\0"u8.ToArray();
    public const uint FormatVersion = 2;
    private const int SymbolRecord = 13;
    private const uint NoSection = uint.MaxValue;

    public static void Write(KernelSymbolMap map, string key, Stream stream)
    {
        var pool = new Dictionary<string, uint>(StringComparer.Ordinal);
        var pooled = new List<string>();
        uint Id(string s)
        {
            if (!pool.TryGetValue(s, out var id))
            {
                pool[s] = id = (uint)pooled.Count;
                pooled.Add(s);
            }
            return id;
        }
        // Streamed in passes over the symbols: no large arrays, so no large-object allocations (and the full
        // collections they bring over a heap of half a million symbols).
        var symbolCount = 0;
        var objects = new List<(uint Name, uint First, uint Count)>(map.Objects.Count);
        var unstable = new List<(uint Object, uint Name)>();
        foreach (var obj in map.Objects)
        {
            foreach (var name in obj.UnstableNames.Order(StringComparer.Ordinal)) unstable.Add(((uint)objects.Count, Id(name)));
            objects.Add((Id(obj.Name), (uint)symbolCount, (uint)obj.Symbols.Count));
            symbolCount += obj.Symbols.Count;
            string? lastSection = null;
            foreach (var symbol in obj.Symbols)
                if (!ReferenceEquals(symbol.Section, lastSection) && (lastSection = symbol.Section) is not null) Id(lastSection);
        }

        var writer = new Output(stream);
        void Text(string text) => writer.Text(text);
        writer.Bytes(Magic);
        writer.U32(FormatVersion);
        writer.U16((ushort)Encoding.UTF8.GetByteCount(key));
        Text(key);
        writer.U32((uint)pooled.Count);
        uint offset = 0;
        foreach (var text in pooled)
        {
            writer.U32(offset);
            offset += (uint)Encoding.UTF8.GetByteCount(text);
        }
        writer.U32(offset);
        foreach (var text in pooled) Text(text);
        writer.U32((uint)objects.Count);
        foreach (var (name, first, count) in objects)
        {
            writer.U32(name);
            writer.U32(first);
            writer.U32(count);
        }
        writer.U32((uint)symbolCount);
        offset = 0;
        foreach (var obj in map.Objects)
            foreach (var symbol in obj.Symbols)
            {
                writer.U32(offset);
                offset += (uint)Encoding.UTF8.GetByteCount(symbol.Name);
            }
        writer.U32(offset);
        foreach (var obj in map.Objects)
            foreach (var symbol in obj.Symbols) Text(symbol.Name);
        foreach (var obj in map.Objects)
        {
            string? lastSection = null;
            var lastSectionId = NoSection;
            foreach (var symbol in obj.Symbols)
            {
                if (!ReferenceEquals(symbol.Section, lastSection))
                {
                    lastSection = symbol.Section;
                    lastSectionId = symbol.Section is null ? NoSection : pool[symbol.Section];
                }
                writer.U32(lastSectionId);
                writer.U64(symbol.Address);
                writer.U8(symbol.Kind < 128 ? (byte)symbol.Kind : (byte)'?');
            }
        }
        writer.U32((uint)unstable.Count);
        foreach (var (obj, name) in unstable)
        {
            writer.U32(obj);
            writer.U32(name);
        }
        writer.Flush();
    }

    /// <summary>Little-endian writes into a 64 KiB buffer (a Stream call per field costs more than the field).</summary>
    private sealed class Output(Stream stream)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _used;

        private Span<byte> Take(int size)
        {
            if (_used + size > _buffer.Length) Flush();
            var span = _buffer.AsSpan(_used, size);
            _used += size;
            return span;
        }

        public void U8(byte value) => Take(1)[0] = value;
        public void U16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), value);
        public void U32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);
        public void U64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > _buffer.Length)
            {
                Flush();
                stream.Write(bytes);
            }
            else bytes.CopyTo(Take(bytes.Length));
        }

        public void Text(string text)
        {
            if (Encoding.UTF8.GetMaxByteCount(text.Length) > _buffer.Length) Bytes(Encoding.UTF8.GetBytes(text));
            else
            {
                if (_used + Encoding.UTF8.GetMaxByteCount(text.Length) > _buffer.Length) Flush();
                _used += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_used));
            }
        }

        public void Flush()
        {
            stream.Write(_buffer, 0, _used);
            _used = 0;
        }
    }

    /// <summary>The key a file was written with, or null when it is not a symbol map file of this version.</summary>
    public static string? ReadKey(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            Span<byte> head = stackalloc byte[14];
            if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length) return null;
            if (!head[..8].SequenceEqual(Magic) || BinaryPrimitives.ReadUInt32LittleEndian(head[8..]) != FormatVersion) return null;
            var keyBytes = new byte[BinaryPrimitives.ReadUInt16LittleEndian(head[12..])];
            return stream.ReadAtLeast(keyBytes, keyBytes.Length, throwOnEndOfStream: false) == keyBytes.Length ? Encoding.UTF8.GetString(keyBytes) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Loads a map written by <see cref="Write"/>; null when the file is missing, of another version or damaged.</summary>
    public static KernelSymbolMap? Read(string path, out string? key)
    {
        key = null;
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        try
        {
            return Parse(data, out key);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or FormatException or ArgumentException)
        {
            key = null;
            return null;
        }
    }

    private static KernelSymbolMap? Parse(byte[] data, out string? key)
    {
        key = null;
        var span = data.AsSpan();
        if (span.Length < 14 || !span[..8].SequenceEqual(Magic) || BinaryPrimitives.ReadUInt32LittleEndian(span[8..]) != FormatVersion) return null;
        var at = 12;
        int U16() { var v = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at)); at += 2; return v; }
        int Count(int elementSize)
        {
            var v = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at));
            at += 4;
            if ((ulong)v * (ulong)elementSize > (ulong)(data.Length - at)) throw new FormatException("count out of range");
            return (int)v;
        }
        var keyLength = U16();
        key = Encoding.UTF8.GetString(data, at, keyLength);
        at += keyLength;

        var poolCount = Count(4);
        var pool = new Strings(data, at, at + (poolCount + 1) * 4);
        at = pool.End(poolCount);
        var pooled = new string[poolCount];
        for (var i = 0; i < poolCount; i++) pooled[i] = pool.Get(i);

        var objectCount = Count(12);
        var objectsStart = at;
        at += objectCount * 12;
        var symbolCount = Count(4);
        var names = new Strings(data, at, at + (symbolCount + 1) * 4);
        at = names.End(symbolCount);
        var recordsStart = at;
        at += checked(symbolCount * SymbolRecord);
        var unstableCount = Count(8);
        if ((long)at + unstableCount * 8L != data.Length) throw new FormatException("size mismatch");
        var unstable = new Dictionary<int, List<string>>();
        for (var i = 0; i < unstableCount; i++)
        {
            var obj = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + i * 8));
            var name = pooled[BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + i * 8 + 4))];
            if (!unstable.TryGetValue(obj, out var list)) unstable[obj] = list = [];
            list.Add(name);
        }
        var objects = new List<SymbolMapObject>(objectCount);
        for (var i = 0; i < objectCount; i++)
        {
            var o = data.AsSpan(objectsStart + i * 12);
            var first = (int)BinaryPrimitives.ReadUInt32LittleEndian(o[4..]);
            var count = (int)BinaryPrimitives.ReadUInt32LittleEndian(o[8..]);
            if ((long)first + count > symbolCount) throw new FormatException("object out of range");
            objects.Add(new SymbolMapObject(pooled[BinaryPrimitives.ReadUInt32LittleEndian(o)],
                new LazySymbols(data, recordsStart, first, count, names, pooled), unstable.GetValueOrDefault(i)));
        }
        return new KernelSymbolMap(objects);
    }

    /// <summary>n strings: u32 offsets[n+1] at offsetsStart, bytes at bytesStart.</summary>
    private readonly struct Strings(byte[] data, int offsetsStart, int bytesStart)
    {
        public int End(int count) => checked(bytesStart + (int)Offset(count));

        private uint Offset(int i) => BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offsetsStart + i * 4));

        public string Get(int i)
        {
            var start = Offset(i);
            var end = Offset(i + 1);
            if (end < start) throw new FormatException("string offsets out of order");
            return Encoding.UTF8.GetString(data, bytesStart + (int)start, (int)(end - start));
        }
    }

    /// <summary>An object's symbols, decoded on first use.</summary>
    private sealed class LazySymbols(byte[] data, int recordsStart, int first, int count, Strings names, string[] pooled) : IReadOnlyList<KernelSymbol>
    {
        private KernelSymbol[]? _symbols;

        private KernelSymbol[] Symbols => _symbols ??= Decode();

        public KernelSymbol this[int index] => Symbols[index];
        public int Count => count;
        public IEnumerator<KernelSymbol> GetEnumerator() => ((IEnumerable<KernelSymbol>)Symbols).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        private KernelSymbol[] Decode()
        {
            var result = new KernelSymbol[count];
            for (var i = 0; i < count; i++)
            {
                var r = data.AsSpan(recordsStart + (first + i) * SymbolRecord, SymbolRecord);
                var section = BinaryPrimitives.ReadUInt32LittleEndian(r);
                result[i] = new KernelSymbol(names.Get(first + i), BinaryPrimitives.ReadUInt64LittleEndian(r[4..]), (char)r[12],
                    section == NoSection ? null : section < pooled.Length ? pooled[section] : throw new FormatException("section id out of range"));
            }
            return result;
        }
    }
}
