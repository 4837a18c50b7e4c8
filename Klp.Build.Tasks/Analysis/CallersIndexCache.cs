using System.Security.Cryptography;
using System.Text;
using Klp.Build.Kernels;

namespace Klp.Build.Analysis;

/// <summary>
/// Keeps a kernel's <see cref="CallersIndex"/> in the kernel cache (kernels/&lt;release&gt;/&lt;version&gt;/analysis/callers.bin):
/// keyed by the vmlinux's path, size and modification time, written atomically under a lock.
/// </summary>
public sealed class CallersIndexCache(string directory)
{
    public const string FileName = "callers.bin";
    private const int FormatVersion = 1;

    public static CallersIndexCache ForKernel(KernelCache cache, string release, string version) =>
        new(Path.Combine(cache.KernelDirectory(release, version), "analysis"));

    public string Directory { get; } = directory;
    public string IndexPath => Path.Combine(Directory, FileName);

    /// <summary>True when the last <see cref="GetOrCreate"/> was served from the cache.</summary>
    public bool LastWasHit { get; private set; }

    public CallersIndex GetOrCreate(string vmlinuxPath, ObjectCode code, CancellationToken cancellationToken = default)
    {
        var key = Key(vmlinuxPath);
        if (CallersIndex.Read(IndexPath, key) is { } cached)
        {
            LastWasHit = true;
            return cached;
        }
        System.IO.Directory.CreateDirectory(Directory);
        using (FileLock.Acquire(Path.Combine(Directory, "callers.lock"), cancellationToken))
        {
            if (CallersIndex.Read(IndexPath, key) is { } other)
            {
                LastWasHit = true;
                return other;
            }
            LastWasHit = false;
            var index = CallersIndex.Build(code, cancellationToken);
            AtomicFile.Write(IndexPath, stream => index.Write(stream, key));
            return index;
        }
    }

    public static string Key(string vmlinuxPath)
    {
        var info = new FileInfo(vmlinuxPath);
        var text = $"callers={FormatVersion}\n{Path.GetFullPath(vmlinuxPath)}\t{(info.Exists ? $"{info.Length}\t{info.LastWriteTimeUtc.Ticks}" : "missing")}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
