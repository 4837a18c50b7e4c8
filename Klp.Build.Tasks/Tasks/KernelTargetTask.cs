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

    protected override string? StepRelease => KernelRelease;

    private protected TargetKernelFiles TargetFiles() =>
        TargetKernelFiles.Create(KernelRelease, KernelBuildDirectory, KernelArchitecture, KernelSource, KernelPackageVersion,
            CacheDirectory, KernelVmlinux, KernelImage, KernelModulesDirectory, message => Log.LogMessage(MessageImportance.Normal, message), CancellationToken,
            LogStepOfTargetFiles);

    /// <summary>The symbol map is a step of its own (once a build); the DWARF index is part of the analysis step.</summary>
    private void LogStepOfTargetFiles(string step, string line)
    {
        if (step == "symbol map") StepLine.LogOnce(Log, BuildEngine, $"{ProjectFile}|{KernelRelease}|{step}", line);
        else Log.LogMessage(MessageImportance.Low, line);
    }
}
