using System.CommandLine;
using Klp.Build.Kernels;

namespace Klp.Build.Cli;

/// <summary>The release argument and cache option of the commands that work on a Debian kernel target.</summary>
public static class TargetOptions
{
    public static Argument<string> Release() => new("release")
    {
        Description = "Debian kernel release, e.g. 6.1.0-56-amd64, or a pattern with '*' for the newest the archive serves: 6.1.0-*-amd64",
    };

    public static Option<string?> CacheDirectory() => new("--cache-dir")
    {
        Description = "Kernel package cache (default: $XDG_CACHE_HOME/klp-build or ~/.cache/klp-build), shared with the SDK",
    };

    /// <summary>The release resolved through Debian's archive, its build tree fetched into the cache, as the SDK does.</summary>
    public static TargetKernelFiles Resolve(string release, string? cacheDirectory, CliConsole console, CancellationToken cancellationToken)
    {
        var files = TargetKernelFiles.ForDebianRelease(release, cacheDirectory, console.Progress, cancellationToken);
        console.Progress($"Kernel {files.Target.Release} ({files.Target.PackageVersion}) at {files.Target.BuildDirectory}");
        return files;
    }
}
