using Klp.Build.Diagnostics;

namespace Klp.Build.Kernels;

/// <summary>
/// Finds the kernel a patch builds against: KernelDir (any configured tree), else KernelRelease through the
/// Debian archive, else the running kernel's /lib/modules/$(uname -r)/build.
/// </summary>
public sealed class KernelTargetResolver(DebianKernelProvider debian, string modulesRoot = "/lib/modules", string? runningRelease = null)
{
    public KernelTarget Resolve(string? kernelDir, string? kernelRelease, CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrWhiteSpace(kernelDir))
            return FromDirectory(kernelDir, KernelSourceKind.KernelDir, "KernelDir");
        if (!string.IsNullOrWhiteSpace(kernelRelease))
            return debian.ProvideBuildTree(debian.ResolveRelease(kernelRelease.Trim()), cancellationToken);

        var release = runningRelease ?? RunningRelease();
        var build = Path.Combine(modulesRoot, release, "build");
        if (!Directory.Exists(build))
            throw DiagnosticException.Error("KLP1005",
                $"neither KernelDir nor KernelRelease is set and the running kernel ({release}) has no build tree at {build}: set KernelRelease (e.g. 6.1.0-*-amd64) or install its headers.");
        return FromDirectory(build, KernelSourceKind.RunningKernel, build);
    }

    public static string RunningRelease() =>
        File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : Environment.OSVersion.Version.ToString();

    private static KernelTarget FromDirectory(string directory, KernelSourceKind kind, string what)
    {
        var full = Path.GetFullPath(directory);
        if (!File.Exists(Path.Combine(full, ".config")) || !File.Exists(Path.Combine(full, "Makefile")))
            throw DiagnosticException.Error("KLP1004",
                $"{what} '{full}' is not a configured kernel tree (it needs .config and Makefile): point it at a kernel build directory or an installed linux-headers tree.");
        var release = ReleaseOf(full)
            ?? throw DiagnosticException.Error("KLP1004",
                $"{what} '{full}' has no include/config/kernel.release: run 'make modules_prepare' in it first.");
        var config = KernelConfig.Load(Path.Combine(full, ".config"));
        var architecture = KernelArchitecture.FromConfig(config)
            ?? throw DiagnosticException.Error("KLP1004", $"{what} '{full}' is configured for an architecture this SDK does not build for (x86_64, arm64, ppc64le, s390x).");
        return new KernelTarget(release, kind, full, architecture);
    }

    /// <summary>Debian's headers override KERNELRELEASE in .kernelvariables (their kernel.release holds the upstream version).</summary>
    private static string? ReleaseOf(string tree)
    {
        var variables = Path.Combine(tree, ".kernelvariables");
        if (File.Exists(variables))
        {
            var match = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(variables), @"^override KERNELRELEASE = (\S+)", System.Text.RegularExpressions.RegexOptions.Multiline);
            if (match.Success) return match.Groups[1].Value;
        }
        var releaseFile = Path.Combine(tree, "include", "config", "kernel.release");
        return File.Exists(releaseFile) ? File.ReadAllText(releaseFile).Trim() : null;
    }
}
