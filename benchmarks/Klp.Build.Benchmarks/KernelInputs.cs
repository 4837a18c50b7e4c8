using Klp.Build.Kernels;
using Klp.Build.Symbols;

namespace Klp.Build.Benchmarks;

/// <summary>
/// The kernel to measure: KLP_VMLINUX and KLP_MODULES when set, else the first release in the product's cache
/// (~/.cache/klp-build/kernels/R/V) that has both its debug vmlinux and its image.
/// </summary>
public static class KernelInputs
{
    public static SymbolMapInputs Find()
    {
        var vmlinux = Environment.GetEnvironmentVariable("KLP_VMLINUX");
        var modules = Environment.GetEnvironmentVariable("KLP_MODULES");
        if (vmlinux is null || modules is null)
        {
            var kernels = Path.Combine(KernelCache.DefaultRoot, "kernels");
            var found = (Directory.Exists(kernels) ? Directory.GetDirectories(kernels) : [])
                .SelectMany(Directory.GetDirectories)
                .Select(d => (Release: Path.GetFileName(Path.GetDirectoryName(d))!, Directory: d))
                .FirstOrDefault(k => File.Exists(Path.Combine(k.Directory, "debug", $"vmlinux-{k.Release}"))
                                     && Directory.Exists(Path.Combine(k.Directory, "image", "lib", "modules", k.Release)));
            if (found.Directory is null)
                throw new InvalidOperationException("no kernel with debug vmlinux and image in the cache: set KLP_VMLINUX and KLP_MODULES, or run the Symbols tests first");
            vmlinux ??= Path.Combine(found.Directory, "debug", $"vmlinux-{found.Release}");
            modules ??= Path.Combine(found.Directory, "image", "lib", "modules", found.Release);
        }
        return SymbolMapInputs.Create(vmlinux, modules);
    }
}
