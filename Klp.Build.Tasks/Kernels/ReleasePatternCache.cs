using System.Text;

namespace Klp.Build.Kernels;

/// <summary>
/// What a KernelRelease pattern ("6.1.0-*-amd64") resolved to, remembered until apt's package lists change: asking
/// apt-cache takes a second or more, and a no-op build should not pay it every time.
/// </summary>
public sealed class ReleasePatternCache(string directory)
{
    public static ReleasePatternCache In(KernelCache cache) => new(Path.Combine(cache.Root, "resolved"));

    public string? Find(string pattern, string listsStamp)
    {
        var path = PathOf(pattern);
        if (!File.Exists(path)) return null;
        var lines = File.ReadAllLines(path);
        return lines.Length == 3 && lines[0] == pattern && lines[1] == listsStamp && lines[2].Length > 0 ? lines[2] : null;
    }

    public void Remember(string pattern, string listsStamp, string release)
    {
        try
        {
            Directory.CreateDirectory(directory);
            AtomicFile.WriteIfChanged(PathOf(pattern), $"{pattern}\n{listsStamp}\n{release}\n");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Only a shortcut: the next build asks apt again.
        }
    }

    private string PathOf(string pattern) =>
        Path.Combine(directory, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(pattern)))[..16].ToLowerInvariant() + ".txt");
}
