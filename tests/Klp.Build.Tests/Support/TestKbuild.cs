using Klp.Build.Processes;

namespace Klp.Build.Tests.Support;

/// <summary>
/// Stand-in for the project's kernel-headers provider (to be replaced): unpacks linux-headers-&lt;release&gt;,
/// linux-headers-&lt;abi&gt;-common and linux-kbuild-&lt;series&gt; (pinned to the headers' version) into one root under
/// the test cache, redirects the arch Makefile's absolute include, and builds external modules against it.
/// </summary>
public static class TestKbuild
{
    private static readonly object Gate = new();

    /// <summary>The root holding usr/src/linux-headers-&lt;release&gt;, usr/src/linux-headers-&lt;abi&gt;-common, usr/lib/linux-kbuild-*.</summary>
    public static string HeadersRoot(string release)
    {
        var root = Path.Combine(TestKernels.CacheRoot, $"kbuild-{release}");
        lock (Gate)
        {
            if (Directory.Exists(root)) return root;
            var abi = System.Text.RegularExpressions.Regex.Replace(release, "-[a-z0-9]+$", ""); // 6.1.0-56-amd64 → 6.1.0-56
            var version = PackageVersion($"linux-headers-{release}");
            var series = System.Text.RegularExpressions.Regex.Match(release, @"^\d+\.\d+").Value;
            var temp = root + ".tmp";
            if (Directory.Exists(temp)) Directory.Delete(temp, true);
            Directory.CreateDirectory(temp);
            foreach (var package in new[] { $"linux-headers-{release}={version}", $"linux-headers-{abi}-common={version}", $"linux-kbuild-{series}={version}" })
            {
                var deb = Download(package);
                Check(ProcessRunner.Run("dpkg-deb", ["-x", deb, temp]), "dpkg-deb -x " + deb);
            }
            var makefile = Path.Combine(temp, "usr", "src", $"linux-headers-{release}", "Makefile");
            var common = Path.Combine(root, "usr", "src", $"linux-headers-{abi}-common", "Makefile");
            File.WriteAllText(makefile, $"include {common}\n");
            Directory.Move(temp, root);
            return root;
        }
    }

    /// <summary>Builds `obj-m := &lt;name&gt;.o` from one C source in a fresh directory; returns the .ko path.</summary>
    public static string BuildModule(string release, string name, string source, params string[] makeArguments)
    {
        var root = HeadersRoot(release);
        var directory = Path.Combine(Path.GetTempPath(), "klp-vm-tests", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, name + ".c"), source);
        File.WriteAllText(Path.Combine(directory, "Kbuild"), $"obj-m := {name}.o\n");
        var tree = Path.Combine(root, "usr", "src", $"linux-headers-{release}");
        Check(ProcessRunner.Run("make", ["-C", tree, $"M={directory}", .. makeArguments, "modules"], timeout: TimeSpan.FromMinutes(5)),
            $"make -C {tree} M={directory} modules");
        var module = Path.Combine(directory, name + ".ko");
        if (!File.Exists(module)) throw new InvalidOperationException($"kbuild produced no {module}");
        return module;
    }

    private static string PackageVersion(string package)
    {
        var run = ProcessRunner.Run("apt-cache", ["show", "--no-all-versions", package]);
        var line = run.StandardOutput.Split('\n').FirstOrDefault(l => l.StartsWith("Version: ", StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"apt-cache show {package}: no version ({run.StandardError})");
        return line["Version: ".Length..].Trim();
    }

    private static string Download(string packageAndVersion)
    {
        var debs = Path.Combine(TestKernels.CacheRoot, "debs");
        Directory.CreateDirectory(debs);
        var (name, version) = (packageAndVersion.Split('=')[0], packageAndVersion.Split('=')[1]);
        var existing = Directory.GetFiles(debs, $"{name}_{version.Replace(":", "%3a")}_*.deb");
        if (existing.Length > 0) return existing[0];
        var temp = Directory.CreateTempSubdirectory("klp-deb-").FullName;
        var run = ProcessRunner.Run("apt-get", ["download", "-o", "APT::Sandbox::User=root", packageAndVersion], temp);
        var file = Directory.GetFiles(temp, "*.deb").SingleOrDefault()
                   ?? throw new InvalidOperationException($"apt-get download {packageAndVersion} failed: {run.StandardError}");
        var final = Path.Combine(debs, Path.GetFileName(file));
        File.Move(file, final, overwrite: true);
        Directory.Delete(temp, true);
        return final;
    }

    private static void Check(ProcessResult result, string what)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException($"{what} failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
    }
}
