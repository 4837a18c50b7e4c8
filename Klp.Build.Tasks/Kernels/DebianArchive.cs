using System.Text.RegularExpressions;
using Klp.Build.Diagnostics;
using Klp.Build.Processes;

namespace Klp.Build.Kernels;

/// <summary>What the build asks of Debian's archive, through the host's apt tools and package lists.</summary>
public sealed class DebianArchive(string aptListsDirectory = "/var/lib/apt/lists")
{
    public sealed record PackageInfo(string Name, string Version, string Architecture, IReadOnlyList<string> Depends);

    public bool HasPackageLists =>
        Directory.Exists(aptListsDirectory) &&
        Directory.EnumerateFiles(aptListsDirectory, "*_Packages*").Any();

    /// <summary>Changes whenever apt's package lists do (apt-get update): names, sizes and times of the lists.</summary>
    public string PackageListsStamp()
    {
        if (!Directory.Exists(aptListsDirectory)) return "none";
        var lists = new DirectoryInfo(aptListsDirectory).EnumerateFiles("*_Packages*")
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => $"{f.Name} {f.Length} {f.LastWriteTimeUtc.Ticks}");
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lists))))[..32];
    }

    public void RequirePackageLists()
    {
        if (ProcessRunner.FindOnPath("apt-get") is null || ProcessRunner.FindOnPath("dpkg-deb") is null)
            throw DiagnosticException.Error("KLP1002",
                "apt-get and dpkg-deb are needed to fetch Debian kernel packages: run the build on Debian or Ubuntu, or set KernelDir to a configured kernel tree.");
        if (!HasPackageLists)
            throw DiagnosticException.Error("KLP1002",
                $"apt has no package lists in {aptListsDirectory}: run 'sudo apt-get update' once, then build again.");
    }

    /// <summary>All package names starting with a prefix (apt-cache pkgnames).</summary>
    public IReadOnlyList<string> PackageNames(string prefix)
    {
        var result = ProcessRunner.Run("apt-cache", ["pkgnames", prefix]);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The candidate version of a package, or null when apt does not know it.</summary>
    public PackageInfo? Show(string package)
    {
        var result = ProcessRunner.Run("apt-cache", ["show", "--no-all-versions", package]);
        if (!result.Succeeded || string.IsNullOrWhiteSpace(result.StandardOutput)) return null;
        string Field(string name) =>
            Regex.Match(result.StandardOutput, $@"^{name}: (.*)$", RegexOptions.Multiline).Groups[1].Value.Trim();
        var depends = Field("Depends").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new PackageInfo(Field("Package"), Field("Version"), Field("Architecture"), depends);
    }

    /// <summary>
    /// Downloads name=version .debs into a directory; returns their paths in request order. A download that takes
    /// more than a few seconds reports how far it got every few seconds.
    /// </summary>
    public IReadOnlyList<string> Download(IReadOnlyList<string> packageSpecs, string directory, CancellationToken cancellationToken,
        Action<string>? progress = null)
    {
        Directory.CreateDirectory(directory);
        using var reporter = progress is null ? null : new DownloadProgress(directory, string.Join(' ', packageSpecs), progress);
        var arguments = new List<string> { "download" };
        if (Environment.UserName == "root") arguments.AddRange(["-o", "APT::Sandbox::User=root"]);
        arguments.AddRange(packageSpecs);
        var result = ProcessRunner.Run("apt-get", arguments, directory, timeout: TimeSpan.FromMinutes(30), cancellationToken: cancellationToken);
        if (!result.Succeeded)
            throw DiagnosticException.Error("KLP1003",
                $"apt-get download {string.Join(' ', packageSpecs)} failed: {FirstErrorLine(result.StandardError)}. Check the network and 'apt-get update'.");
        var files = Directory.GetFiles(directory, "*.deb");
        return packageSpecs.Select(spec =>
        {
            var name = spec.Split('=')[0].Split(':')[0];
            return files.FirstOrDefault(f => Path.GetFileName(f).StartsWith(name + "_", StringComparison.Ordinal))
                   ?? throw DiagnosticException.Error("KLP1003", $"apt-get download {spec} produced no .deb file in {directory}.");
        }).ToList();
    }

    public static void Unpack(string deb, string root)
    {
        var result = ProcessRunner.Run("dpkg-deb", ["-x", deb, root]);
        if (!result.Succeeded)
            throw DiagnosticException.Error("KLP1003", $"dpkg-deb -x {deb} failed: {FirstErrorLine(result.StandardError)}. Delete the file and build again.");
    }

    /// <summary>
    /// Extracts only some members ("./usr/lib/...") of a .deb under root, in one pass over its data archive
    /// (dpkg-deb --fsys-tarfile | tar -x), without unpacking the rest.
    /// </summary>
    public static void ExtractMembers(string deb, string root, IReadOnlyList<string> members, CancellationToken cancellationToken = default)
    {
        var script = "set -e; deb=$1; root=$2; shift 2; dpkg-deb --fsys-tarfile \"$deb\" | tar -x -C \"$root\" -- \"$@\"";
        var result = ProcessRunner.Run("sh", ["-c", script, "sh", deb, root, .. members],
            timeout: TimeSpan.FromMinutes(30), cancellationToken: cancellationToken);
        var missing = members.FirstOrDefault(m => !File.Exists(Path.Combine(root, m)));
        if (!result.Succeeded || missing is not null)
            throw DiagnosticException.Error("KLP1003",
                $"extracting {missing ?? string.Join(", ", members)} from {deb} failed: {FirstErrorLine(result.StandardError)}. Delete the file and build again.");
    }

    private static string FirstErrorLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("E:", StringComparison.Ordinal) || l.Contains("error", StringComparison.OrdinalIgnoreCase))
        ?? text.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "no output";
}
