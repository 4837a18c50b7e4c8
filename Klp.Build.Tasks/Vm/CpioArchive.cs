using System.IO.Compression;
using System.Text;

namespace Klp.Build.Vm;

/// <summary>
/// A deterministic cpio archive in the kernel's initramfs ("newc", magic 070701) format: entries sorted by path,
/// inode numbers assigned in that order, mtime 0, uid/gid 0. Parent directories are added implicitly.
/// </summary>
public sealed class CpioArchive
{
    private const int TypeDirectory = 0x4000;   // S_IFDIR
    private const int TypeRegular = 0x8000;     // S_IFREG
    private const int TypeSymlink = 0xA000;     // S_IFLNK
    private const int TypeCharDevice = 0x2000;  // S_IFCHR

    private sealed record Entry(int Type, int Permissions, byte[] Data, int RdevMajor = 0, int RdevMinor = 0);

    private readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The archive's paths (relative, no leading '/'), in archive order.</summary>
    public IReadOnlyList<string> Paths => [.. _entries.Keys];

    public void AddDirectory(string path, int permissions = 0b111_101_101) =>
        Add(path, new Entry(TypeDirectory, permissions, []));

    public void AddFile(string path, byte[] content, int permissions = 0b110_100_100) =>
        Add(path, new Entry(TypeRegular, permissions, content));

    public void AddFile(string path, string text, int permissions = 0b110_100_100) =>
        AddFile(path, Encoding.UTF8.GetBytes(text), permissions);

    public void AddSymlink(string path, string target) =>
        Add(path, new Entry(TypeSymlink, 0b111_111_111, Encoding.UTF8.GetBytes(target)));

    public void AddCharDevice(string path, int major, int minor, int permissions = 0b110_000_000) =>
        Add(path, new Entry(TypeCharDevice, permissions, [], major, minor));

    private void Add(string path, Entry entry)
    {
        var name = Normalize(path);
        var slash = name.LastIndexOf('/');
        if (slash > 0 && !_entries.ContainsKey(name[..slash])) AddDirectory(name[..slash]);
        if (_entries.TryGetValue(name, out var existing) && (existing.Type == TypeDirectory) != (entry.Type == TypeDirectory))
            throw new InvalidOperationException($"cpio entry {name} added twice with different types");
        _entries[name] = entry;
    }

    private static string Normalize(string path)
    {
        var name = path.Replace('\\', '/').Trim('/');
        if (name.Length == 0 || name.Split('/').Any(part => part is "" or "." or ".."))
            throw new ArgumentException($"invalid cpio entry path '{path}'", nameof(path));
        return name;
    }

    public void WriteTo(Stream stream)
    {
        var inode = 1;
        foreach (var (name, entry) in _entries)
            WriteEntry(stream, name, inode++, entry);
        WriteEntry(stream, "TRAILER!!!", 0, new Entry(0, 0, []));
    }

    public byte[] ToArray()
    {
        using var memory = new MemoryStream();
        WriteTo(memory);
        return memory.ToArray();
    }

    /// <summary>Writes the archive gzip-compressed (the form QEMU's -initrd and the kernel accept).</summary>
    public void WriteGzip(string file)
    {
        using var output = File.Create(file);
        using var gzip = new GZipStream(output, CompressionLevel.Optimal);
        WriteTo(gzip);
    }

    private static void WriteEntry(Stream stream, string name, int inode, Entry entry)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var header = new StringBuilder("070701");
        void Field(long value) => header.Append(value.ToString("x8"));
        Field(inode);
        Field(entry.Type | entry.Permissions);
        Field(0); // uid
        Field(0); // gid
        Field(entry.Type == TypeDirectory ? 2 : 1); // nlink
        Field(0); // mtime
        Field(entry.Data.Length);
        Field(0); // devmajor
        Field(0); // devminor
        Field(entry.RdevMajor);
        Field(entry.RdevMinor);
        Field(nameBytes.Length + 1);
        Field(0); // check
        var headerBytes = Encoding.ASCII.GetBytes(header.ToString());
        stream.Write(headerBytes);
        stream.Write(nameBytes);
        stream.WriteByte(0);
        Pad(stream, headerBytes.Length + nameBytes.Length + 1);
        stream.Write(entry.Data);
        Pad(stream, entry.Data.Length);
    }

    private static void Pad(Stream stream, int length)
    {
        for (var i = length; i % 4 != 0; i++) stream.WriteByte(0);
    }
}
