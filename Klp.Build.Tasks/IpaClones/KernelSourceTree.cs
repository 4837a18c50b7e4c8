using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Klp.Build.Processes;

namespace Klp.Build.IpaClones;

/// <summary>
/// The target kernel's source files: a KernelSourceDir, or Debian's linux-source-&lt;series&gt; of the same package
/// version, from whose tarball only the directories an analysis needs are extracted (into the kernel cache).
/// </summary>
public sealed class KernelSourceTree
{
    private readonly string? _tarball;
    private readonly string _tarPrefix = "";

    public string Root { get; }

    private KernelSourceTree(string root, string? tarball, string tarPrefix)
    {
        Root = root;
        _tarball = tarball;
        _tarPrefix = tarPrefix;
    }

    public static KernelSourceTree FromDirectory(string directory)
    {
        if (!File.Exists(Path.Combine(directory, "Makefile")) || !Directory.Exists(Path.Combine(directory, "kernel")))
            throw DiagnosticException.Error(IpaCloneCodes.SourceUnavailable, $"KernelSourceDir '{directory}' is not a kernel source tree (no Makefile and kernel/): point it at the top of the target's source.");
        return new KernelSourceTree(directory, null, "");
    }

    /// <summary>linux-source-&lt;series&gt; at the target's package version (about 140 MB, fetched once).</summary>
    public static KernelSourceTree FromDebian(KernelTarget target, DebianArchive archive, KernelCache cache, CancellationToken cancellationToken)
    {
        var series = System.Text.RegularExpressions.Regex.Match(target.Release, @"^\d+\.\d+").Value;
        var version = target.PackageVersion
            ?? throw DiagnosticException.Error(IpaCloneCodes.SourceUnavailable, $"kernel {target.Release} is not a Debian package: set KernelSourceDir to its source tree.");
        var package = $"linux-source-{series}";
        var spec = archive.Show($"{package}={version}") is null ? package : $"{package}={version}";
        var directory = Path.Combine(cache.KernelDirectory(target.Release, version), "source");
        var tarball = Path.Combine(directory, $"linux-source-{series}.tar.xz");
        cache.GetOrCreate(directory, root =>
        {
            archive.RequirePackageLists();
            var temp = Path.Combine(cache.DebsDirectory, $".download-{Guid.NewGuid():N}");
            try
            {
                var deb = archive.Download([spec], temp, cancellationToken)[0];
                DebianArchive.ExtractMembers(deb, root, [$"./usr/src/linux-source-{series}.tar.xz"], cancellationToken);
                File.Move(Path.Combine(root, "usr", "src", $"linux-source-{series}.tar.xz"), Path.Combine(root, $"linux-source-{series}.tar.xz"));
                Directory.Delete(Path.Combine(root, "usr"), recursive: true);
            }
            finally
            {
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
        });
        return new KernelSourceTree(Path.Combine(directory, "tree"), tarball, $"linux-source-{series}/");
    }

    /// <summary>Makes a source file, its directory and its parent's headers present; returns the file's full path.</summary>
    public string Require(string relativeSource, CancellationToken cancellationToken = default)
    {
        var full = Path.Combine(Root, relativeSource);
        if (File.Exists(full) || _tarball is null)
        {
            if (!File.Exists(full))
                throw DiagnosticException.Error(IpaCloneCodes.SourceUnavailable, $"{relativeSource} is not in the kernel source tree {Root}.");
            return full;
        }
        var directory = Path.GetDirectoryName(relativeSource)!.Replace('\\', '/');
        var parent = Path.GetDirectoryName(directory)?.Replace('\\', '/');
        var marker = Path.Combine(Root, ".extracted", directory.Replace('/', '_'));
        if (!File.Exists(marker))
        {
            Directory.CreateDirectory(Root);
            var patterns = new List<string> { $"{_tarPrefix}{directory}/*" };
            if (!string.IsNullOrEmpty(parent)) patterns.Add($"{_tarPrefix}{parent}/*.h");
            var result = ProcessRunner.Run("tar",
                ["-xJf", _tarball, "-C", Root, "--strip-components=1", "--wildcards", "--no-wildcards-match-slash", .. patterns],
                timeout: TimeSpan.FromMinutes(10), cancellationToken: cancellationToken);
            if (!File.Exists(full))
                throw DiagnosticException.Error(IpaCloneCodes.SourceUnavailable, $"{relativeSource} is not in {_tarball}: {result.StandardError.Trim()}");
            Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
            File.WriteAllText(marker, "");
        }
        return full;
    }
}
