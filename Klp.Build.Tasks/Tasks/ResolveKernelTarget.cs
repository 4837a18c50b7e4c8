using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>KernelDir, else KernelRelease from Debian's archive (cached), else the running kernel.</summary>
public sealed class ResolveKernelTarget : KlpTask
{
    public string? KernelDir { get; set; }
    public string? KernelRelease { get; set; }
    public string? CacheDirectory { get; set; }

    [Output] public string ResolvedKernelRelease { get; private set; } = "";
    [Output] public string KernelBuildDirectory { get; private set; } = "";
    [Output] public string KernelArchitecture { get; private set; } = "";
    [Output] public string KernelSource { get; private set; } = "";
    [Output] public string KernelPackageVersion { get; private set; } = "";

    protected override string? StepName => "kernel";
    protected override string? StepRelease => ResolvedKernelRelease.Length > 0 ? ResolvedKernelRelease : KernelRelease;

    protected override void Run(DiagnosticBag diagnostics)
    {
        var cache = KernelCache.At(CacheDirectory);
        var provider = new DebianKernelProvider(new DebianArchive(), cache, message => Log.LogMessage(MessageImportance.Normal, message));
        var target = new KernelTargetResolver(provider).Resolve(KernelDir, KernelRelease, CancellationToken);
        ResolvedKernelRelease = target.Release;
        KernelBuildDirectory = target.BuildDirectory;
        KernelArchitecture = target.Architecture.Debian;
        KernelSource = target.Source.ToString();
        KernelPackageVersion = target.PackageVersion ?? "";
        StepDetail = $"{target.Source}{(target.PackageVersion is null ? "" : " " + target.PackageVersion)}, " +
                     (provider.DownloadedPackages == 0 ? "cached" : $"downloaded {provider.DownloadedPackages} package(s), {provider.DownloadedBytes / 1048576.0:F1} MiB");
        Log.LogMessage(MessageImportance.Low, $"Kernel {target.Release} ({target.Source}) at {target.BuildDirectory}");
    }
}
