namespace Klp.Build.Kernels;

/// <summary>
/// The per-user cache of kernel packages: debs/ holds downloaded packages, kernels/&lt;release&gt;/&lt;version&gt;/ the
/// unpacked trees. Every entry appears by an atomic rename, so a reader never sees a half-filled one, and a
/// per-entry lock keeps two builds from fetching the same thing twice.
/// </summary>
public sealed class KernelCache(string root)
{
    public string Root { get; } = root;

    public static string DefaultRoot
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".cache") : xdg, "klp-build");
        }
    }

    /// <summary>The cache at a chosen folder (KernelCacheDirectory, --cache-dir), or at the default root when none is given.</summary>
    public static KernelCache At(string? directory) => new(string.IsNullOrEmpty(directory) ? DefaultRoot : directory);

    public string DebsDirectory => Path.Combine(Root, "debs");

    public string KernelDirectory(string release, string version) =>
        Path.Combine(Root, "kernels", release, version.Replace(':', '_'));

    /// <summary>Returns directory, creating it with fill(tempDirectory) first when it does not exist yet.</summary>
    public string GetOrCreate(string directory, Action<string> fill)
    {
        if (Directory.Exists(directory)) return directory;
        var parent = Path.GetDirectoryName(directory)!;
        Directory.CreateDirectory(parent);
        using (FileLock.Acquire(directory + ".lock"))
        {
            if (Directory.Exists(directory)) return directory;
            var temp = $"{directory}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
            try
            {
                Directory.CreateDirectory(temp);
                fill(temp);
                Directory.Move(temp, directory);
            }
            finally
            {
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
        }
        return directory;
    }
}
