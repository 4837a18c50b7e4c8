using Klp.Build.Processes;
using Klp.Build.Vm;

namespace Klp.Build.Tests.Vm;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CpioArchiveTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("klp-cpio-").FullName;

    public void Dispose() => Directory.Delete(_directory, true);

    private static CpioArchive Sample()
    {
        var archive = new CpioArchive();
        archive.AddFile("klp/checks/c0.sh", "cat /proc/cmdline\n", 0b111_101_101);
        archive.AddFile("init", "#!/bin/sh\necho hi\n", 0b111_101_101);
        archive.AddFile("data/odd.bin", [1, 2, 3, 4, 5]);
        archive.AddFile("data/empty", []);
        archive.AddSymlink("bin/sh", "busybox");
        archive.AddDirectory("proc");
        archive.AddCharDevice("dev/console", 5, 1);
        return archive;
    }

    private string Write(CpioArchive archive, string name = "a.cpio")
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, archive.ToArray());
        return path;
    }

    [Fact]
    public void CpioListsEntriesSortedWithImplicitParents()
    {
        var path = Write(Sample());
        var run = ProcessRunner.Run("sh", ["-c", $"cpio -t --quiet < '{path}'"]);
        run.ExitCode.ShouldBe(0, run.StandardError);
        run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(
            ["bin", "bin/sh", "data", "data/empty", "data/odd.bin", "dev", "dev/console", "init", "klp", "klp/checks", "klp/checks/c0.sh", "proc"]);
    }

    [Fact]
    public void CpioExtractsContentsModesAndLinks()
    {
        var path = Write(Sample());
        var target = Path.Combine(_directory, "out");
        Directory.CreateDirectory(target);
        // Extract everything but the device node (creating it needs privileges the test may not have).
        var run = ProcessRunner.Run("sh", ["-c", $"cpio -i --quiet -d --no-absolute-filenames --nonmatching 'dev/console' < '{path}'"], target);
        run.ExitCode.ShouldBe(0, run.StandardError);
        File.ReadAllText(Path.Combine(target, "init")).ShouldBe("#!/bin/sh\necho hi\n");
        File.ReadAllBytes(Path.Combine(target, "data", "odd.bin")).ShouldBe([1, 2, 3, 4, 5]);
        new FileInfo(Path.Combine(target, "data", "empty")).Length.ShouldBe(0);
        File.ResolveLinkTarget(Path.Combine(target, "bin", "sh"), false)!.ToString().ShouldEndWith("busybox");
        new FileInfo(Path.Combine(target, "bin", "sh")).LinkTarget.ShouldBe("busybox");
        File.GetUnixFileMode(Path.Combine(target, "init")).HasFlag(UnixFileMode.UserExecute).ShouldBeTrue();
        File.GetUnixFileMode(Path.Combine(target, "data", "odd.bin")).HasFlag(UnixFileMode.UserExecute).ShouldBeFalse();
    }

    [Fact]
    public void VerboseListingShowsRootOwnerFixedTimeAndDevice()
    {
        var path = Write(Sample());
        var run = ProcessRunner.Run("sh", ["-c", $"cpio -tv --quiet --numeric-uid-gid < '{path}'"], environment: new Dictionary<string, string?> { ["TZ"] = "UTC", ["LC_ALL"] = "C" });
        run.ExitCode.ShouldBe(0, run.StandardError);
        var lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.ShouldAllBe(l => l.Contains(" 0        0 ") || l.Contains(" 0 0 ") || System.Text.RegularExpressions.Regex.IsMatch(l, @"\s0\s+0\s"));
        lines.ShouldAllBe(l => l.Contains("1970"));
        lines.Single(l => l.EndsWith("dev/console")).ShouldStartWith("crw");
        lines.Single(l => l.Contains("bin/sh")).ShouldContain("bin/sh -> busybox");
    }

    [Fact]
    public void OutputIsDeterministicAndIndependentOfInsertionOrder()
    {
        var other = new CpioArchive();
        other.AddDirectory("proc");
        other.AddCharDevice("dev/console", 5, 1);
        other.AddSymlink("bin/sh", "busybox");
        other.AddFile("data/empty", []);
        other.AddFile("data/odd.bin", [1, 2, 3, 4, 5]);
        other.AddFile("init", "#!/bin/sh\necho hi\n", 0b111_101_101);
        other.AddFile("klp/checks/c0.sh", "cat /proc/cmdline\n", 0b111_101_101);
        other.ToArray().ShouldBe(Sample().ToArray());
        (Sample().ToArray().Length % 4).ShouldBe(0);
    }

    [Fact]
    public void GzipArchiveReadsBackThroughZcat()
    {
        var path = Path.Combine(_directory, "initrd.gz");
        Sample().WriteGzip(path);
        var run = ProcessRunner.Run("sh", ["-c", $"zcat '{path}' | cpio -t --quiet"]);
        run.ExitCode.ShouldBe(0, run.StandardError);
        run.StandardOutput.ShouldContain("klp/checks/c0.sh");
    }

    [Fact]
    public void RejectsEscapingPaths()
    {
        var archive = new CpioArchive();
        Should.Throw<ArgumentException>(() => archive.AddFile("../etc/passwd", []));
        Should.Throw<ArgumentException>(() => archive.AddFile("", []));
    }
}
