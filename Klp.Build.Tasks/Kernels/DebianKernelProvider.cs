using System.Text.RegularExpressions;
using Klp.Build.Diagnostics;
using Klp.Build.Processes;

namespace Klp.Build.Kernels;

/// <summary>
/// Fetches a Debian kernel release's build tree (linux-headers-R, its -common package, the matching
/// linux-kbuild) and, on demand, its image (vmlinuz and modules) into the cache, and makes the unpacked
/// headers work from there.
/// </summary>
public sealed class DebianKernelProvider(DebianArchive archive, KernelCache cache, Action<string>? log = null)
{
    private readonly Action<string> _log = log ?? (_ => { });

    /// <summary>Packages this provider has downloaded, and their size: what a build step reports.</summary>
    public int DownloadedPackages { get; private set; }
    public long DownloadedBytes { get; private set; }

    /// <summary>
    /// "6.1.0-56-amd64" stays as it is; a pattern with '*' ("6.1.0-*-amd64", "6.12.*+deb12-amd64") becomes
    /// the newest release the archive serves that matches it.
    /// </summary>
    public string ResolveRelease(string releaseOrPattern)
    {
        if (!releaseOrPattern.Contains('*')) return releaseOrPattern;
        var resolved = ReleasePatternCache.In(cache);
        var stamp = archive.PackageListsStamp();
        if (resolved.Find(releaseOrPattern, stamp) is { } known) return known;
        archive.RequirePackageLists();
        var prefix = "linux-headers-" + releaseOrPattern[..releaseOrPattern.IndexOf('*')];
        var pattern = new Regex("^linux-headers-" + Regex.Escape(releaseOrPattern).Replace(@"\*", "[^-]*?") + "$");
        var releases = archive.PackageNames(prefix)
            .Where(name => pattern.IsMatch(name) && !name.EndsWith("-common", StringComparison.Ordinal))
            .Select(name => name["linux-headers-".Length..])
            .ToList();
        if (releases.Count == 0)
            throw DiagnosticException.Error("KLP1017",
                $"no Debian kernel release matches KernelRelease '{releaseOrPattern}': 'apt-cache pkgnames {prefix}' lists what the archive serves; run 'apt-get update' if it is out of date.");
        var newest = releases.OrderBy(r => r, ReleaseComparer.Instance).Last();
        resolved.Remember(releaseOrPattern, stamp, newest);
        return newest;
    }

    public KernelTarget ProvideBuildTree(string release, CancellationToken cancellationToken = default)
    {
        var architecture = KernelArchitecture.FromReleaseFlavour(release)
            ?? throw DiagnosticException.Error("KLP1001",
                $"'{release}' is not a Debian kernel release name (expected a flavour suffix such as -amd64, -arm64, -powerpc64le or -s390x).");
        var existing = FindCached(release, "build");
        if (existing is not null)
            return Target(release, existing.Value.Version, existing.Value.Directory, architecture);

        archive.RequirePackageLists();
        var foreign = architecture != KernelArchitecture.Host;
        var headersName = $"linux-headers-{release}" + (foreign ? $":{architecture.Debian}" : "");
        var headers = archive.Show(headersName) ?? throw UnknownRelease(release, architecture, foreign);
        var common = DependencyNamed(headers, "linux-headers-", "-common")
            ?? throw DiagnosticException.Error("KLP1003", $"{headersName} {headers.Version} depends on no linux-headers-*-common package.");
        var kbuild = DependencyNamed(headers, "linux-kbuild-", "")
            ?? throw DiagnosticException.Error("KLP1003", $"{headersName} {headers.Version} depends on no linux-kbuild-* package.");
        var kbuildSpec = archive.Show($"{kbuild}={headers.Version}") is null ? kbuild : $"{kbuild}={headers.Version}";

        var directory = cache.KernelDirectory(release, headers.Version);
        var build = Path.Combine(directory, "build");
        cache.GetOrCreate(build, root =>
        {
            var debs = Fetch([$"{headersName}={headers.Version}", $"{common}={headers.Version}", kbuildSpec], cancellationToken);
            foreach (var deb in debs) DebianArchive.Unpack(deb, root);
            RedirectHeadersMakefile(root, build, release);
        });
        return Target(release, headers.Version, build, architecture);
    }

    /// <summary>The unpacked linux-image-R: boot/vmlinuz-R and lib/modules/R (with modules.dep).</summary>
    public string ProvideImage(KernelTarget target, CancellationToken cancellationToken = default)
    {
        var release = target.Release;
        var existing = FindCached(release, "image");
        if (existing is not null) return existing.Value.Directory;
        archive.RequirePackageLists();
        var suffix = target.Architecture != KernelArchitecture.Host ? $":{target.Architecture.Debian}" : "";
        var image = archive.Show($"linux-image-{release}{suffix}") ?? archive.Show($"linux-image-{release}-unsigned{suffix}")
            ?? throw DiagnosticException.Error("KLP1001", $"the archive has no linux-image-{release}: run 'apt-get update', or pick a release that 'apt-cache pkgnames linux-image-' lists.");
        var version = target.PackageVersion ?? image.Version;
        return cache.GetOrCreate(Path.Combine(cache.KernelDirectory(release, version), "image"), root =>
        {
            var debs = Fetch([$"{image.Name}{suffix}={image.Version}"], cancellationToken);
            DebianArchive.Unpack(debs[0], root);
            var depmod = ProcessRunner.FindOnPath("depmod") ?? ProcessRunner.FindOnPath("/sbin/depmod");
            if (depmod is not null) ProcessRunner.Run(depmod, ["-b", root, release]);
        });
    }

    /// <summary>
    /// The vmlinux with symbols (and next to it the real System.map-R) from linux-image-R-dbg: about 860 MB to
    /// download once, of which only those two files are extracted into the cache entry "debug".
    /// </summary>
    public string ProvideDebugVmlinux(KernelTarget target, CancellationToken cancellationToken = default)
    {
        var release = target.Release;
        var vmlinux = $"vmlinux-{release}";
        var known = target.PackageVersion is { } v ? Path.Combine(cache.KernelDirectory(release, v), "debug") : null;
        if (known is not null && File.Exists(Path.Combine(known, vmlinux))) return Path.Combine(known, vmlinux);
        if (known is null && FindCached(release, "debug") is { } existing) return Path.Combine(existing.Directory, vmlinux);
        archive.RequirePackageLists();
        var suffix = target.Architecture != KernelArchitecture.Host ? $":{target.Architecture.Debian}" : "";
        var dbg = archive.Show($"linux-image-{release}-dbg{suffix}")
            ?? throw DiagnosticException.Error("KLP1001", $"the archive has no linux-image-{release}-dbg, whose vmlinux the symbol map needs: run 'apt-get update', or set KernelDir to a kernel tree with its vmlinux.");
        var directory = cache.GetOrCreate(known ?? Path.Combine(cache.KernelDirectory(release, dbg.Version), "debug"), root =>
        {
            var debs = Fetch([$"{dbg.Name}{suffix}={dbg.Version}"], cancellationToken);
            var boot = "./usr/lib/debug/boot/";
            DebianArchive.ExtractMembers(debs[0], root, [boot + vmlinux, boot + $"System.map-{release}"], cancellationToken);
            foreach (var file in Directory.GetFiles(Path.Combine(root, "usr", "lib", "debug", "boot")))
                File.Move(file, Path.Combine(root, Path.GetFileName(file)));
            Directory.Delete(Path.Combine(root, "usr"), recursive: true);
            _log($"extracted {vmlinux} and System.map-{release} from {Path.GetFileName(debs[0])}");
        });
        return Path.Combine(directory, vmlinux);
    }

    /// <summary>
    /// A module with its DWARF (e.g. "ext4" or "nf-tables"), from linux-image-R-dbg's
    /// ./usr/lib/debug/lib/modules/R/&lt;path of the module in linux-image-R&gt;, extracted alone on first use into the
    /// cache entry "debug-modules" (one pass over the package: about a minute). Null when the image has no such module.
    /// </summary>
    public string? ProvideDebugModule(KernelTarget target, string moduleName, CancellationToken cancellationToken = default)
    {
        var release = target.Release;
        var modules = Path.Combine(ProvideImage(target, cancellationToken), "lib", "modules", release);
        if (new KernelModuleIndex(modules).Find(moduleName) is not { } installed) return null;
        var relative = Path.GetRelativePath(modules, installed);
        foreach (var compressed in new[] { ".xz", ".zst", ".gz" })
            if (relative.EndsWith(".ko" + compressed, StringComparison.Ordinal)) relative = relative[..^compressed.Length];
        var version = target.PackageVersion ?? FindCached(release, "image")?.Version
            ?? throw DiagnosticException.Error("KLP1001", $"the package version of {release} is unknown: resolve the kernel target first.");
        var root = Path.Combine(cache.KernelDirectory(release, version), "debug-modules");
        var final = Path.Combine(root, relative);
        if (File.Exists(final)) return final;
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        var suffix = target.Architecture != KernelArchitecture.Host ? $":{target.Architecture.Debian}" : "";
        var deb = Directory.Exists(cache.DebsDirectory)
            ? Directory.GetFiles(cache.DebsDirectory, $"linux-image-{release}-dbg_{version.Replace(":", "%3a")}_*.deb").FirstOrDefault()
            : null;
        if (deb is null)
        {
            archive.RequirePackageLists();
            deb = Fetch([$"linux-image-{release}-dbg{suffix}={version}"], cancellationToken)[0];
        }
        var temp = Path.Combine(root, $".extract-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            var member = $"./usr/lib/debug/lib/modules/{release}/{relative.Replace(Path.DirectorySeparatorChar, '/')}";
            DebianArchive.ExtractMembers(deb, temp, [member], cancellationToken);
            File.Move(Path.Combine(temp, member), final, overwrite: true);
            _log($"extracted the debug module {relative} from {Path.GetFileName(deb)}");
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
        return final;
    }

    private KernelTarget Target(string release, string version, string buildRoot, KernelArchitecture architecture) =>
        new(release, KernelSourceKind.Debian, Path.Combine(buildRoot, "usr", "src", $"linux-headers-{release}"),
            architecture, version, Path.GetDirectoryName(buildRoot));

    private (string Version, string Directory)? FindCached(string release, string part)
    {
        var releaseDirectory = Path.Combine(cache.Root, "kernels", release);
        if (!Directory.Exists(releaseDirectory)) return null;
        return Directory.GetDirectories(releaseDirectory)
            .Where(d => !Path.GetFileName(d).Contains(".tmp-") && Directory.Exists(Path.Combine(d, part)))
            .Select(d => (Version: Path.GetFileName(d), Directory: Path.Combine(d, part)))
            .OrderBy(v => v.Version, ReleaseComparer.Instance)
            .Select(v => ((string, string)?)v)
            .LastOrDefault();
    }

    private IReadOnlyList<string> Fetch(IReadOnlyList<string> specs, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(cache.DebsDirectory, $".download-{Guid.NewGuid():N}");
        try
        {
            var started = DateTime.UtcNow;
            var files = archive.Download(specs, temp, cancellationToken, _log);
            var result = new List<string>();
            foreach (var file in files)
            {
                var final = Path.Combine(cache.DebsDirectory, Path.GetFileName(file));
                File.Move(file, final, overwrite: true);
                result.Add(final);
                DownloadedPackages++;
                DownloadedBytes += new FileInfo(final).Length;
                _log($"fetched {Path.GetFileName(final)} ({new FileInfo(final).Length / 1048576.0:F1} MiB)");
            }
            _log($"downloaded {specs.Count} package(s) in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
            return result;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>The arch headers' Makefile includes /usr/src/linux-headers-ABI-common/Makefile by absolute path.</summary>
    private static void RedirectHeadersMakefile(string root, string finalRoot, string release)
    {
        var makefile = Path.Combine(root, "usr", "src", $"linux-headers-{release}", "Makefile");
        if (!File.Exists(makefile))
            throw DiagnosticException.Error("KLP1003", $"linux-headers-{release} unpacked without {makefile}: the package layout is not one this SDK knows.");
        var text = File.ReadAllText(makefile);
        File.WriteAllText(makefile, text.Replace("include /usr/src/", $"include {finalRoot}/usr/src/", StringComparison.Ordinal));
    }

    private static string? DependencyNamed(DebianArchive.PackageInfo package, string prefix, string suffix) =>
        package.Depends
            .SelectMany(d => d.Split('|', StringSplitOptions.TrimEntries))
            .Select(d => d.Split(' ', 2)[0].Split(':')[0])
            .FirstOrDefault(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(suffix, StringComparison.Ordinal)
                                    && (suffix.Length > 0 || !name.EndsWith("-common", StringComparison.Ordinal)));

    private DiagnosticException UnknownRelease(string release, KernelArchitecture architecture, bool foreign)
    {
        if (foreign && !ForeignArchitectureEnabled(architecture))
            return DiagnosticException.Error("KLP1006",
                $"'{release}' is a {architecture.Debian} kernel and dpkg does not know that architecture here: run 'sudo dpkg --add-architecture {architecture.Debian} && sudo apt-get update'.");
        var series = Regex.Match(release, @"^\d+\.\d+").Value;
        string Shape(string r) => Regex.Replace(r, @"\d+", "#");
        var near = archive.PackageNames($"linux-headers-{series}")
            .Select(n => n["linux-headers-".Length..])
            .Where(r => Shape(r) == Shape(release))
            .OrderBy(r => r, ReleaseComparer.Instance).TakeLast(3).ToList();
        var hint = near.Count > 0 ? $" Releases of {series} the archive serves include: {string.Join(", ", near)}." : "";
        return DiagnosticException.Error("KLP1001",
            $"unknown kernel release '{release}': the archive has no linux-headers-{release}.{hint} Run 'apt-get update' if the release is new.");
    }

    private static bool ForeignArchitectureEnabled(KernelArchitecture architecture)
    {
        var result = ProcessRunner.Run("dpkg", ["--print-foreign-architectures"]);
        return result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).Contains(architecture.Debian);
    }
}
