using System.Buffers.Binary;
using System.Text;

namespace Klp.Build.Symbols;

/// <summary>
/// A compact, lazily decoded file form of a <see cref="KernelSymbolMap"/> with everything the text form drops
/// (addresses, kinds, sections) and the key of the inputs it was made from. Loading reads the file and the
/// object table only; an object's symbols and their names are decoded the first time they are used, so a warm
/// load of a kernel with thousands of modules costs milliseconds.
/// Layout (little endian): "KLPSYMS\0", u32 version, u16+UTF-8 key; u32 n strings, u32 offsets[n+1], blob;
/// u32 objects × (u32 name, u32 first symbol, u32 count); u32 symbols × (u32 name, u32 section or ~0, u64 address, u8 kind);
/// u32 unstable names × (u32 object, u32 name).
/// </summary>
public static class SymbolMapBinary
{
    private static readonly byte[] Magic = "KLPSYMS\0"u8.ToArray();
    public const uint FormatVersion = 1;
    private const int SymbolRecord = 17;
    private const uint NoSection = uint.MaxValue;

    public static void Write(KernelSymbolMap map, string key, Stream stream)
    {
        var strings = new Dictionary<string, uint>(StringComparer.Ordinal);
        var ordered = new List<string>();
        uint Id(string s)
        {
            if (!strings.TryGetValue(s, out var id))
            {
                strings[s] = id = (uint)ordered.Count;
                ordered.Add(s);
            }
            return id;
        }
        var symbolCount = map.Objects.Sum(o => o.Symbols.Count);
        var records = new byte[symbolCount * SymbolRecord];
        var objects = new List<(uint Name, uint First, uint Count)>();
        var unstable = new List<(uint Object, uint Name)>();
        var at = 0;
        foreach (var obj in map.Objects)
        {
            foreach (var name in obj.UnstableNames.Order(StringComparer.Ordinal)) unstable.Add(((uint)objects.Count, Id(name)));
            objects.Add((Id(obj.Name), (uint)(at / SymbolRecord), (uint)obj.Symbols.Count));
            foreach (var symbol in obj.Symbols)
            {
                var r = records.AsSpan(at, SymbolRecord);
                BinaryPrimitives.WriteUInt32LittleEndian(r, Id(symbol.Name));
                BinaryPrimitives.WriteUInt32LittleEndian(r[4..], symbol.Section is null ? NoSection : Id(symbol.Section));
                BinaryPrimitives.WriteUInt64LittleEndian(r[8..], symbol.Address);
                r[16] = symbol.Kind < 128 ? (byte)symbol.Kind : (byte)'?';
                at += SymbolRecord;
            }
        }

        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        var keyBytes = Encoding.UTF8.GetBytes(key);
        writer.Write((ushort)keyBytes.Length);
        writer.Write(keyBytes);
        var blob = new MemoryStream();
        var offsets = new uint[ordered.Count + 1];
        for (var i = 0; i < ordered.Count; i++)
        {
            offsets[i] = (uint)blob.Length;
            blob.Write(Encoding.UTF8.GetBytes(ordered[i]));
        }
        offsets[^1] = (uint)blob.Length;
        writer.Write((uint)ordered.Count);
        foreach (var offset in offsets) writer.Write(offset);
        writer.Write(blob.GetBuffer(), 0, (int)blob.Length);
        writer.Write((uint)objects.Count);
        foreach (var (name, first, count) in objects)
        {
            writer.Write(name);
            writer.Write(first);
            writer.Write(count);
        }
        writer.Write((uint)symbolCount);
        writer.Write(records);
        writer.Write((uint)unstable.Count);
        foreach (var (obj, name) in unstable)
        {
            writer.Write(obj);
            writer.Write(name);
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
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or FormatException)
        {
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
        uint U32() { var v = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at)); at += 4; return v; }
        var keyLength = U16();
        key = Encoding.UTF8.GetString(data, at, keyLength);
        at += keyLength;
        var stringCount = (int)U32();
        var offsetsStart = at;
        at += (stringCount + 1) * 4;
        var blobStart = at;
        var blobLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offsetsStart + stringCount * 4));
        at += blobLength;
        var strings = new StringPool(data, offsetsStart, blobStart, stringCount);
        var objectCount = (int)U32();
        var objectsStart = at;
        at += objectCount * 12;
        var symbolCount = (int)U32();
        var recordsStart = at;
        at += symbolCount * SymbolRecord;
        var unstableCount = (int)U32();
        if ((long)at + unstableCount * 8L != data.Length) throw new FormatException("size mismatch");
        var unstable = new Dictionary<int, List<string>>();
        for (var i = 0; i < unstableCount; i++)
        {
            var obj = (int)U32();
            var name = strings[U32()];
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
            objects.Add(new SymbolMapObject(strings[BinaryPrimitives.ReadUInt32LittleEndian(o)],
                new LazySymbols(data, recordsStart + first * SymbolRecord, count, strings), unstable.GetValueOrDefault(i)));
        }
        return new KernelSymbolMap(objects);
    }

    private sealed class StringPool(byte[] data, int offsetsStart, int blobStart, int count)
    {
        private readonly string?[] _decoded = new string?[count];

        public string this[uint id]
        {
            get
            {
                if (id >= (uint)count) throw new FormatException("string id out of range");
                return _decoded[id] ??= Decode((int)id);
            }
        }

        private string Decode(int id)
        {
            var start = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offsetsStart + id * 4));
            var end = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offsetsStart + id * 4 + 4));
            return Encoding.UTF8.GetString(data, blobStart + (int)start, (int)(end - start));
        }
    }

    /// <summary>An object's symbols, decoded on first use.</summary>
    private sealed class LazySymbols(byte[] data, int start, int count, StringPool strings) : IReadOnlyList<KernelSymbol>
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
                var r = data.AsSpan(start + i * SymbolRecord, SymbolRecord);
                var section = BinaryPrimitives.ReadUInt32LittleEndian(r[4..]);
                result[i] = new KernelSymbol(strings[BinaryPrimitives.ReadUInt32LittleEndian(r)],
                    BinaryPrimitives.ReadUInt64LittleEndian(r[8..]), (char)r[16], section == NoSection ? null : strings[section]);
            }
            return result;
        }
    }
}
