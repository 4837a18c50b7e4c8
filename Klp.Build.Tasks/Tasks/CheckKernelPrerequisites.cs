using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>Early errors from the target's .config and the host's tools, before kbuild runs.</summary>
public sealed class CheckKernelPrerequisites : KlpTask
{
    [Required] public string KernelRelease { get; set; } = "";
    [Required] public string KernelBuildDirectory { get; set; } = "";
    [Required] public string KernelArchitecture { get; set; } = "";

    [Output] public string KbuildArch { get; private set; } = "";
    [Output] public string CrossCompile { get; private set; } = "";
    [Output] public string Compiler { get; private set; } = "";

    protected override void Run(DiagnosticBag diagnostics)
    {
        var architecture = Kernels.KernelArchitecture.All.Single(a => a.Debian == KernelArchitecture);
        var target = new KernelTarget(KernelRelease, KernelSourceKind.KernelDir, KernelBuildDirectory, architecture);
        var toolchain = KernelPrerequisites.Check(target, diagnostics);
        KbuildArch = architecture.Kbuild;
        CrossCompile = toolchain.CrossCompile;
        Compiler = toolchain.Compiler;
    }
}
