using Klp.Build.Kernels;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>A task that reads the resolved kernel target's files beyond its build tree (image, debug vmlinux, caches).</summary>
public abstract class KernelTargetTask : KlpTask
{
    [Required] public string KernelRelease { get; set; } = "";
    [Required] public string KernelBuildDirectory { get; set; } = "";
    [Required] public string KernelArchitecture { get; set; } = "";
    [Required] public string KernelSource { get; set; } = "";
    public string? KernelPackageVersion { get; set; }
    public string? CacheDirectory { get; set; }
    public string? KernelVmlinux { get; set; }
    public string? KernelImage { get; set; }
    public string? KernelModulesDirectory { get; set; }

    private protected TargetKernelFiles TargetFiles() =>
        TargetKernelFiles.Create(KernelRelease, KernelBuildDirectory, KernelArchitecture, KernelSource, KernelPackageVersion,
            CacheDirectory, KernelVmlinux, KernelImage, KernelModulesDirectory, message => Log.LogMessage(MessageImportance.High, message), CancellationToken);
}
