using System.Security.Cryptography;
using System.Text;
using Klp.Build.Diagnostics;
using Klp.Build.Kernels;

namespace Klp.Build.Dwarf;

/// <summary>
/// A kernel's DWARF index, kept in a directory of the kernel cache (kernels/&lt;release&gt;/&lt;version&gt;/dwarf):
/// dwarf.bin (<see cref="DwarfIndexBinary"/>). The index is made again only when its input changes: the key covers
/// the input's full path, size and modification time. The file appears by atomic rename and a lock file keeps
/// two builds from indexing the same file at once; the second one waits and then loads what the first wrote.
/// </summary>
public sealed class DwarfIndexCache(string directory, Func<string, DiagnosticBag, CancellationToken, DwarfIndex?>? build = null)
{
    public const string BinaryFileName = "dwarf.bin";

    private readonly Func<string, DiagnosticBag, CancellationToken, DwarfIndex?> _build =
        build ?? ((path, diagnostics, token) => DwarfIndex.Build(path, diagnostics, cancellationToken: token));

    /// <summary>The cache entry of a Debian release's package version: kernels/&lt;release&gt;/&lt;version&gt;/dwarf.</summary>
    public static DwarfIndexCache ForKernel(KernelCache cache, string release, string version) =>
        new(Path.Combine(cache.KernelDirectory(release, version), "dwarf"));

    public string Directory { get; } = directory;

    /// <summary>Where the index of an input named like <paramref name="input"/> is kept (one file per input name: vmlinux and modules side by side).</summary>
    public string BinaryPathFor(string input) =>
        Path.GetFileName(input).StartsWith("vmlinux", StringComparison.Ordinal) ? BinaryPath : Path.Combine(Directory, Path.GetFileName(input) + ".dwarf.bin");

    public string BinaryPath => Path.Combine(Directory, BinaryFileName);

    /// <summary>True when the last <see cref="GetOrCreate"/> was served from the cache.</summary>
    public bool LastWasHit { get; private set; }

    /// <summary>The index of <paramref name="input"/> (an ELF file with DWARF): from the cache when it is up to date, else built and stored.</summary>
    public DwarfIndex? GetOrCreate(string input, DiagnosticBag diagnostics, CancellationToken cancellationToken = default)
    {
        var key = Key(input);
        var path = BinaryPathFor(input);
        if (TryLoad(path, key, diagnostics) is { } cached)
        {
            LastWasHit = true;
            return cached;
        }
        System.IO.Directory.CreateDirectory(Directory);
        using (FileLock.Acquire(path + ".lock", cancellationToken))
        {
            if (TryLoad(path, key, null) is { } other) // another build made it while we waited
            {
                LastWasHit = true;
                return other;
            }
            LastWasHit = false;
            var index = _build(input, diagnostics, cancellationToken);
            if (index is null) return null;
            AtomicFile.Write(path, stream => DwarfIndexBinary.Write(index, key, stream));
            return index;
        }
    }

    private static DwarfIndex? TryLoad(string path, string key, DiagnosticBag? diagnostics)
    {
        if (!File.Exists(path) || DwarfIndexBinary.ReadKey(path) != key) return null;
        var index = DwarfIndexBinary.Read(path, out var stored);
        if (index is not null && stored == key) return index;
        diagnostics?.Warning(DwarfCodes.DamagedCache, $"the cached DWARF index '{path}' is damaged; it is made again", path);
        return null;
    }

    /// <summary>A digest of the input: its full path, size and modification time, and the index format.</summary>
    public static string Key(string input)
    {
        var info = new FileInfo(input);
        var text = new StringBuilder();
        text.Append("format=").Append(DwarfIndexBinary.FormatVersion).Append(";indexer=1\n").Append(Path.GetFullPath(input)).Append('\t');
        if (info.Exists) text.Append(info.Length).Append('\t').Append(info.LastWriteTimeUtc.Ticks);
        else text.Append("missing");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
