namespace Klp.Build.Kernels;

public enum KernelSourceKind { KernelDir, Debian, RunningKernel }

/// <summary>A configured kernel tree that out-of-tree modules build against, and where its binaries live.</summary>
public sealed record KernelTarget(
    string Release,
    KernelSourceKind Source,
    string BuildDirectory,
    KernelArchitecture Architecture,
    string? PackageVersion = null,
    string? CacheDirectory = null)
{
    public string ConfigPath => Path.Combine(BuildDirectory, ".config");
    public KernelConfig LoadConfig() => KernelConfig.Load(ConfigPath);
}
