using Klp.Build.Diagnostics;

namespace Klp.Build.Kernels;

/// <summary>Where a target's bootable image and installed modules are, for the VM proof and module lookups.</summary>
public sealed record KernelImage(string Vmlinuz, string ModulesDirectory);

public static class KernelImageLocator
{
    public static KernelImage Locate(KernelTarget target, DebianKernelProvider debian, string? vmlinuzOverride, string? modulesOverride,
        CancellationToken cancellationToken = default)
    {
        if (target.Source == KernelSourceKind.Debian && string.IsNullOrEmpty(vmlinuzOverride))
        {
            var root = debian.ProvideImage(target, cancellationToken);
            return new KernelImage(Path.Combine(root, "boot", $"vmlinuz-{target.Release}"),
                modulesOverride is { Length: > 0 } ? modulesOverride : Path.Combine(root, "lib", "modules", target.Release));
        }

        string[] candidates = [vmlinuzOverride ?? "",
            Path.Combine(target.BuildDirectory, "arch", target.Architecture.Kbuild, "boot", "bzImage"),
            $"/boot/vmlinuz-{target.Release}"];
        var vmlinuz = candidates.FirstOrDefault(c => c.Length > 0 && File.Exists(c))
            ?? throw DiagnosticException.Error("KLP5008",
                $"no bootable image for kernel {target.Release}: set KernelImage to its vmlinuz/bzImage (looked in {string.Join(", ", candidates.Where(c => c.Length > 0))}).");
        var modules = modulesOverride is { Length: > 0 } ? modulesOverride
            : Directory.Exists(Path.Combine(target.BuildDirectory, "modules.order")) ? target.BuildDirectory
            : $"/lib/modules/{target.Release}";
        return new KernelImage(vmlinuz, modules);
    }
}
