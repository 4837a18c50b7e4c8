using System.Text.RegularExpressions;
using Klp.Build.Diagnostics;
using Klp.Build.Processes;

namespace Klp.Build.Kernels;

/// <summary>What the target's configuration and the host must offer before kbuild can make a livepatch.</summary>
public sealed record KbuildToolchain(string Compiler, string CrossCompile, bool NeedsPahole);

public static class KernelPrerequisites
{
    /// <summary>Reports every unmet prerequisite at once; returns the toolchain kbuild will use.</summary>
    public static KbuildToolchain Check(KernelTarget target, DiagnosticBag diagnostics, Func<string, string?>? findTool = null)
    {
        findTool ??= ProcessRunner.FindOnPath;
        var config = target.LoadConfig();
        if (!config.IsEnabled("CONFIG_MODULES"))
            diagnostics.Error("KLP1011",
                $"kernel {target.Release} is configured without CONFIG_MODULES: it cannot load modules, so no livepatch can target it. Pick a kernel built with CONFIG_MODULES=y.",
                target.ConfigPath);
        if (!config.IsEnabled("CONFIG_LIVEPATCH"))
            diagnostics.Error("KLP1010",
                $"kernel {target.Release} is configured without CONFIG_LIVEPATCH: it has no livepatch core (struct klp_patch, klp_enable_patch). Pick a kernel built with CONFIG_LIVEPATCH=y (Debian enables it on amd64).",
                target.ConfigPath);

        if (findTool("make") is null)
            diagnostics.Error("KLP1013", "kbuild needs GNU make, which is not installed: run 'sudo apt-get install make'.");

        var foreign = target.Architecture != KernelArchitecture.Host;
        var versionText = config["CONFIG_CC_VERSION_TEXT"] ?? "gcc";
        var builtWith = versionText.Split(' ', 2)[0];
        var major = Regex.Match(builtWith, @"-(\d+)$").Groups[1].Value;
        var crossCompile = foreign ? target.Architecture.GnuTriplet + "-" : "";
        var compiler = foreign ? $"{crossCompile}gcc{(major.Length > 0 ? "-" + major : "")}" : builtWith;
        if (findTool(compiler) is null)
        {
            var package = major.Length > 0 ? $"gcc-{major}" : "gcc";
            if (foreign)
                diagnostics.Error("KLP1015",
                    $"kernel {target.Release} is a {target.Architecture.Debian} kernel and the cross compiler {compiler} is not installed: run 'sudo apt-get install {package}-{target.Architecture.GnuTriplet}'.");
            else
                diagnostics.Error("KLP1012",
                    $"kernel {target.Release} was built with '{versionText}' and {compiler} is not installed: run 'sudo apt-get install {package}' (modules must be built with the kernel's own compiler).");
        }

        var needsPahole = config.IsEnabled("CONFIG_DEBUG_INFO_BTF_MODULES") && File.Exists(Path.Combine(target.BuildDirectory, "vmlinux"));
        if (needsPahole && findTool("pahole") is null)
            diagnostics.Error("KLP1014",
                $"kernel {target.Release} builds BTF for modules (CONFIG_DEBUG_INFO_BTF_MODULES) and pahole is not installed: run 'sudo apt-get install dwarves'.");

        return new KbuildToolchain(compiler, crossCompile, needsPahole);
    }
}
