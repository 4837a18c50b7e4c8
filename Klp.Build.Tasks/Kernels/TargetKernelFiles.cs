using System.Diagnostics;
using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Symbols;

namespace Klp.Build.Kernels;

/// <summary>
/// The target kernel's files that conversion and analysis read beyond the build tree (the debug vmlinux, the
/// image's modules, the symbol map and DWARF index built from them), fetched and cached once per release.
/// </summary>
public sealed class TargetKernelFiles(KernelTarget target, KernelCache cache, DebianKernelProvider provider,
    string? vmlinuxOverride, string? imageOverride, string? modulesOverride, Action<string> log, CancellationToken cancellationToken,
    Action<string, string>? step = null)
{
    private readonly Action<string, string> _step = step ?? ((_, line) => log(line));

    private string? _vmlinux;
    private DwarfIndex? _vmlinuxDwarf;

    public KernelTarget Target => target;
    public DebianKernelProvider Provider => provider;

    public static TargetKernelFiles Create(string release, string buildDirectory, string architecture, string source, string? packageVersion,
        string? cacheDirectory, string? vmlinux, string? image, string? modules, Action<string> log, CancellationToken cancellationToken,
        Action<string, string>? step = null)
    {
        var arch = KernelArchitecture.All.Single(a => a.Debian == architecture);
        var target = new KernelTarget(release, Enum.Parse<KernelSourceKind>(source), buildDirectory, arch,
            string.IsNullOrEmpty(packageVersion) ? null : packageVersion);
        var cache = KernelCache.At(cacheDirectory);
        return new TargetKernelFiles(target, cache, new DebianKernelProvider(new DebianArchive(), cache, log),
            vmlinux, image, modules, log, cancellationToken, step);
    }

    /// <summary>A Debian release (or pattern with '*') resolved through the archive, its build tree fetched into the cache.</summary>
    public static TargetKernelFiles ForDebianRelease(string releaseOrPattern, string? cacheDirectory, Action<string> log, CancellationToken cancellationToken)
    {
        var cache = KernelCache.At(cacheDirectory);
        var provider = new DebianKernelProvider(new DebianArchive(), cache, log);
        var target = new KernelTargetResolver(provider).Resolve(null, releaseOrPattern, cancellationToken);
        return new TargetKernelFiles(target, cache, provider, null, null, null, log, cancellationToken);
    }

    /// <summary>The cache entry's version: the package version, or a hash of a local tree's path.</summary>
    public string CacheVersion => target.PackageVersion ?? "local-" + Convert.ToHexString(
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(target.BuildDirectory)))[..12].ToLowerInvariant();

    public KernelCache Cache => cache;

    /// <summary>vmlinux with symbols and DWARF, or null with KLP3012.</summary>
    public string? Vmlinux(DiagnosticBag diagnostics, string? projectFile)
    {
        if (_vmlinux is not null) return _vmlinux;
        var path = !string.IsNullOrEmpty(vmlinuxOverride) ? vmlinuxOverride
            : target.Source == KernelSourceKind.Debian ? provider.ProvideDebugVmlinux(target, cancellationToken)
            : Path.Combine(target.BuildDirectory, "vmlinux");
        if (!File.Exists(path))
        {
            diagnostics.Error("KLP3012", $"this step needs the target's vmlinux with its symbol table and debug info, which is not at {path}: set KernelVmlinux.", projectFile);
            return null;
        }
        return _vmlinux = path;
    }

    /// <summary>The bootable image and installed modules (Debian: linux-image, fetched on first use).</summary>
    public KernelImage Image => KernelImageLocator.Locate(target, provider, imageOverride, modulesOverride, cancellationToken);

    public string ModulesDirectory => Image.ModulesDirectory;

    public KernelSymbolMap? SymbolMap(DiagnosticBag diagnostics, string? projectFile)
    {
        if (Vmlinux(diagnostics, projectFile) is not { } vmlinux) return null;
        var inputs = target.Source == KernelSourceKind.Debian && string.IsNullOrEmpty(modulesOverride)
            ? SymbolMapInputs.ForDebianImage(vmlinux, provider.ProvideImage(target, cancellationToken), target.Release)
            : SymbolMapInputs.Create(vmlinux, ModulesDirectory, KallsymsOptions.FromConfig(target.LoadConfig()));
        var symbolCache = SymbolMapCache.ForKernel(cache, target.Release, CacheVersion);
        var watch = Stopwatch.StartNew();
        var map = symbolCache.GetOrCreate(inputs, diagnostics, cancellationToken);
        _step("symbol map", ProgressLine.Format("symbol map", target.Release, $"{(symbolCache.LastWasHit ? "cached" : "generated")}, {map?.Objects.Count ?? 0} objects", watch.Elapsed));
        return map;
    }

    public DwarfIndex? VmlinuxDwarf(DiagnosticBag diagnostics, string? projectFile)
    {
        if (_vmlinuxDwarf is not null) return _vmlinuxDwarf;
        if (Vmlinux(diagnostics, projectFile) is not { } vmlinux) return null;
        var dwarfCache = DwarfIndexCache.ForKernel(cache, target.Release, CacheVersion);
        var watch = Stopwatch.StartNew();
        var index = dwarfCache.GetOrCreate(vmlinux, diagnostics, cancellationToken);
        _step("dwarf index", ProgressLine.Format("DWARF index", target.Release, dwarfCache.LastWasHit ? "cached" : "built", watch.Elapsed));
        return _vmlinuxDwarf = index;
    }

    /// <summary>A module's debug file (Debian: from the -dbg package) indexed, or null when there is none.</summary>
    public DwarfIndex? ModuleDwarf(string moduleName, DiagnosticBag diagnostics)
    {
        var debugModule = target.Source == KernelSourceKind.Debian ? provider.ProvideDebugModule(target, moduleName, cancellationToken) : null;
        if (debugModule is null) return null;
        var directory = Path.Combine(cache.KernelDirectory(target.Release, CacheVersion), "dwarf-modules", moduleName);
        return new DwarfIndexCache(directory).GetOrCreate(debugModule, diagnostics, cancellationToken);
    }
}
