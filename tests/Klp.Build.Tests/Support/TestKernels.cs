using Klp.Build.Processes;

namespace Klp.Build.Tests.Support;

/// <summary>
/// Real Debian kernel packages for tests, found in the archive at test time (never pasted in as constants)
/// and unpacked once into a per-user cache. Series: "6.1" (6.1.0-N-amd64) or "6.12" (6.12.N+deb12-amd64).
/// </summary>
public static class TestKernels
{
    private static readonly object Gate = new();

    public static string CacheRoot =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME")
                     ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
            "klp-build", "test-kernels");

    /// <summary>The newest amd64 release of a series that the archive serves, e.g. "6.1.0-56-amd64".</summary>
    public static string NewestRelease(string series, string flavour = "amd64")
    {
        var pattern = series == "6.1" ? $@"^linux-headers-(6\.1\.0-\d+-{flavour})$" : $@"^linux-headers-({System.Text.RegularExpressions.Regex.Escape(series)}\.\d+\+deb\d+-{flavour})$";
        var result = ProcessRunner.Run("apt-cache", ["pkgnames", "linux-headers-" + series]);
        var releases = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(name => System.Text.RegularExpressions.Regex.Match(name.Trim(), pattern))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        if (releases.Count == 0) throw new InvalidOperationException($"apt-cache knows no linux-headers for series {series}-{flavour}: run apt-get update");
        return releases.OrderBy(r => r, new VersionishComparer()).Last();
    }

    /// <summary>linux-image-&lt;release&gt; unpacked: returns the root (boot/vmlinuz-R, lib/modules/R/kernel/...).</summary>
    public static string ImageRoot(string release) => Unpacked($"linux-image-{release}");

    /// <summary>The debug vmlinux from linux-image-&lt;release&gt;-dbg (about 860 MB download, extracted alone).</summary>
    public static string DebugVmlinux(string release) => DebugFile(release, $"vmlinux-{release}");

    /// <summary>The real System.map from linux-image-&lt;release&gt;-dbg (linux-image has only a stub).</summary>
    public static string DebugSystemMap(string release) => DebugFile(release, $"System.map-{release}");

    /// <summary>Extracts vmlinux and System.map together in one pass over the -dbg package (xz: about a minute).</summary>
    private static string DebugFile(string release, string name)
    {
        var target = Path.Combine(CacheRoot, name);
        lock (Gate)
        {
            if (File.Exists(target)) return target;
            var deb = Download($"linux-image-{release}-dbg");
            var temp = Directory.CreateTempSubdirectory("klp-dbg-").FullName;
            try
            {
                var members = new[] { $"vmlinux-{release}", $"System.map-{release}" }.Where(m => !File.Exists(Path.Combine(CacheRoot, m))).ToList();
                var shell = $"dpkg-deb --fsys-tarfile '{deb}' | tar -x -C '{temp}' {string.Join(' ', members.Select(m => $"'./usr/lib/debug/boot/{m}'"))}";
                var run = ProcessRunner.Run("sh", ["-c", shell]);
                if (!run.Succeeded) throw new InvalidOperationException(run.StandardError);
                foreach (var member in members)
                    File.Move(Path.Combine(temp, "usr", "lib", "debug", "boot", member), Path.Combine(CacheRoot, member), overwrite: true);
            }
            finally
            {
                Directory.Delete(temp, true);
            }
            return target;
        }
    }

    private static string Unpacked(string package)
    {
        var root = Path.Combine(CacheRoot, package);
        lock (Gate)
        {
            if (Directory.Exists(root)) return root;
            var deb = Download(package);
            var temp = root + ".tmp";
            if (Directory.Exists(temp)) Directory.Delete(temp, true);
            var run = ProcessRunner.Run("dpkg-deb", ["-x", deb, temp]);
            if (!run.Succeeded) throw new InvalidOperationException(run.StandardError);
            Directory.Move(temp, root);
            return root;
        }
    }

    private static string Download(string package)
    {
        var debs = Path.Combine(CacheRoot, "debs");
        Directory.CreateDirectory(debs);
        var existing = Directory.GetFiles(debs, package + "_*.deb");
        if (existing.Length > 0) return existing[0];
        var temp = Directory.CreateTempSubdirectory("klp-deb-").FullName;
        var run = ProcessRunner.Run("apt-get", ["download", "-o", "APT::Sandbox::User=root", package], temp);
        var file = Directory.GetFiles(temp, "*.deb").SingleOrDefault()
                   ?? throw new InvalidOperationException($"apt-get download {package} failed: {run.StandardError}");
        var final = Path.Combine(debs, Path.GetFileName(file));
        File.Move(file, final, overwrite: true);
        Directory.Delete(temp, true);
        return final;
    }

    private sealed class VersionishComparer : IComparer<string>
    {
        public int Compare(string? x, string? y)
        {
            var a = System.Text.RegularExpressions.Regex.Matches(x ?? "", @"\d+").Select(m => long.Parse(m.Value)).ToArray();
            var b = System.Text.RegularExpressions.Regex.Matches(y ?? "", @"\d+").Select(m => long.Parse(m.Value)).ToArray();
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
                if (a[i] != b[i]) return a[i].CompareTo(b[i]);
            return a.Length.CompareTo(b.Length);
        }
    }
}
