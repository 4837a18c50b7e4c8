using Klp.Build.Kernels;
using Klp.Build.Processes;

namespace Klp.Build.Tests.Kernels;

/// <summary>A KernelRelease pattern asks apt once; the answer is kept until apt's package lists change.</summary>
public sealed class ReleasePatternCacheTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("klp-resolved-").FullName;

    [Fact]
    public void A_pattern_is_resolved_by_apt_once_and_then_from_the_cache()
    {
        var archive = new DebianArchive();
        var cache = new KernelCache(_directory);
        var newest = ProcessRunner.Run("apt-cache", ["pkgnames", "linux-headers-6.1.0-"]).StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(n => System.Text.RegularExpressions.Regex.IsMatch(n, @"^linux-headers-6\.1\.0-\d+-amd64$"))
            .Select(n => n["linux-headers-".Length..]).OrderBy(r => r, ReleaseComparer.Instance).Last();

        var first = new DebianKernelProvider(archive, cache).ResolveRelease("6.1.0-*-amd64");

        first.ShouldBe(newest);
        var stamp = archive.PackageListsStamp();
        var remembered = ReleasePatternCache.In(cache);
        remembered.Find("6.1.0-*-amd64", stamp).ShouldBe(newest);
        remembered.Find("6.1.0-*-amd64", stamp + "-after-apt-get-update").ShouldBeNull("new package lists ask apt again");
        remembered.Find("6.12.*+deb12-amd64", stamp).ShouldBeNull();

        // What the cache says is what the next resolution returns, without apt.
        remembered.Remember("6.1.0-*-amd64", stamp, "6.1.0-999-amd64");
        new DebianKernelProvider(archive, cache).ResolveRelease("6.1.0-*-amd64").ShouldBe("6.1.0-999-amd64");
        new DebianKernelProvider(archive, cache).ResolveRelease("6.1.0-56-amd64").ShouldBe("6.1.0-56-amd64");
    }

    [Fact]
    public void The_stamp_changes_with_the_package_lists()
    {
        var lists = Path.Combine(_directory, "lists");
        Directory.CreateDirectory(lists);
        File.WriteAllText(Path.Combine(lists, "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"), "Package: a\n");
        var archive = new DebianArchive(lists);
        var before = archive.PackageListsStamp();
        archive.PackageListsStamp().ShouldBe(before);

        File.AppendAllText(Path.Combine(lists, "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"), "Package: b\n");

        archive.PackageListsStamp().ShouldNotBe(before);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

public sealed class DownloadProgressTests
{
    [Fact]
    public void A_download_in_progress_reports_the_MiB_that_have_arrived()
    {
        var directory = Directory.CreateTempSubdirectory("klp-download-").FullName;
        try
        {
            var reports = new System.Collections.Concurrent.ConcurrentQueue<string>();
            using (new DownloadProgress(directory, "linux-image-x-dbg", reports.Enqueue, TimeSpan.FromMilliseconds(100)))
            {
                Directory.CreateDirectory(Path.Combine(directory, "partial"));
                File.WriteAllBytes(Path.Combine(directory, "partial", "linux-image-x-dbg_1_amd64.deb"), new byte[3 * 1048576]);
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (!reports.Any(r => r.Contains("3.0 MiB")) && DateTime.UtcNow < deadline) Thread.Sleep(50);
            }
            reports.ShouldContain(r => r.StartsWith("klp: downloading linux-image-x-dbg: 3.0 MiB after "));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
