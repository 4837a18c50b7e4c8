using Klp.Build.Diagnostics;
using Klp.Build.Processes;
using Klp.Build.Vm;

namespace Klp.Build.Tests.Vm;

public sealed class VmHostTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("klp-vmhost-").FullName;

    public void Dispose() => Directory.Delete(_directory, true);

    [Fact]
    public void FindsStaticBusyboxAndRejectsADynamicOne()
    {
        var bag = new DiagnosticBag();
        BusyboxLocator.Find(bag).ShouldBe("/bin/busybox");
        bag.Items.ShouldBeEmpty();

        BusyboxLocator.Find(bag, "/bin/ls").ShouldBeNull();
        var d = bag.Items.ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5002");
        d.Message.ShouldContain("/bin/ls is dynamically linked");
        d.Message.ShouldContain("busybox-static");

        var missing = new DiagnosticBag();
        BusyboxLocator.Find(missing, "/nonexistent/busybox").ShouldBeNull();
        missing.Items.ShouldHaveSingleItem().Message.ShouldContain("/nonexistent/busybox");
    }

    [Fact]
    public void DecompressesXzAndZstdModulesOnTheHost()
    {
        var content = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        var plain = Path.Combine(_directory, "m-a.ko");
        File.WriteAllBytes(plain, content);
        ProcessRunner.Run("xz", ["-k", plain]).ExitCode.ShouldBe(0);
        ProcessRunner.Run("zstd", ["-q", "-k", plain]).ExitCode.ShouldBe(0);

        ModuleFiles.ReadDecompressed(plain + ".xz").ShouldBe(content);
        ModuleFiles.ReadDecompressed(plain + ".zst").ShouldBe(content);
        ModuleFiles.ReadDecompressed(plain).ShouldBe(content);
        ModuleFiles.UncompressedName(plain + ".xz").ShouldBe("m-a.ko");
        ModuleFiles.ModuleName(plain + ".zst").ShouldBe("m_a");
        File.WriteAllBytes(plain + "bad.xz", [1, 2, 3]);
        Should.Throw<InvalidOperationException>(() => ModuleFiles.ReadDecompressed(plain + "bad.xz")).Message.ShouldContain("xz -dc");
    }

    [Fact]
    public void InitramfsHoldsBusyboxInitModulesAndChecks()
    {
        var patch = Path.Combine(_directory, "klp-demo.ko");
        File.WriteAllBytes(patch, [0x7f, (byte)'E', (byte)'L', (byte)'F']);
        var prerequisite = Path.Combine(_directory, "target.ko");
        File.WriteAllBytes(prerequisite, [1, 2]);
        ProcessRunner.Run("xz", [prerequisite]).ExitCode.ShouldBe(0);
        var script = Path.Combine(_directory, "check.sh");
        File.WriteAllText(script, "exit 0\n");
        var test = LivepatchVmTest.Create("/k", patch, _directory, new VmCheck("cat /proc/cmdline")) with
        {
            PrerequisiteModules = [prerequisite + ".xz"],
            SetupCommands = ["true"],
            CheckScripts = [script],
        };
        test.PatchName.ShouldBe("klp_demo");

        var initramfs = InitramfsBuilder.Build(test, "/bin/busybox", Path.Combine(_directory, "work"));

        var list = ProcessRunner.Run("sh", ["-c", $"zcat '{initramfs.Path}' | cpio -t --quiet"]);
        list.ExitCode.ShouldBe(0, list.StandardError);
        var entries = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        entries.ShouldContain("init");
        entries.ShouldContain("bin/busybox");
        entries.ShouldContain("bin/sh");
        entries.ShouldContain("bin/insmod");
        entries.ShouldContain("dev/console");
        entries.ShouldContain("klp/klp-demo.ko");
        entries.ShouldContain("klp/modules/00-target.ko");
        entries.ShouldContain("klp/setup/0.sh");
        entries.ShouldContain("klp/checks/c0.sh");
        entries.ShouldContain("klp/checks/s0-check.sh");
        initramfs.Plan.PrerequisiteModulePaths.ShouldBe(["/klp/modules/00-target.ko"]);
        initramfs.Plan.Checks.Select(c => c.Id).ShouldBe(["c0", "s0"]);

        var extracted = ProcessRunner.Run("sh", ["-c", $"zcat '{initramfs.Path}' | cpio -i --quiet --to-stdout klp/modules/00-target.ko | od -An -tx1"]);
        extracted.StandardOutput.Trim().ShouldBe("01 02");
        // Deterministic: the same input gives the same bytes.
        var again = InitramfsBuilder.Build(test, "/bin/busybox", Path.Combine(_directory, "work2"));
        File.ReadAllBytes(again.Path).ShouldBe(File.ReadAllBytes(initramfs.Path));
    }

    [Fact]
    public void QemuArgumentsUseTwoSerialFilesAndEscapeCommas()
    {
        var args = Qemu.Arguments("/k/vmlinuz", "/w/initrd.gz", "tcg", 512, "/w,1/console.log", "/w/results.log", "loglevel=7");
        string.Join(' ', args).ShouldContain("-accel tcg -cpu max");
        args.ShouldContain("file,id=console,path=/w,,1/console.log");
        args.ShouldContain("file,id=results,path=/w/results.log");
        args.ShouldContain("console=ttyS0 panic=-1 quiet loglevel=7");
        args.ShouldContain("-no-reboot");
        Qemu.Arguments("/k", "/i", "kvm", 256, "c", "r").ShouldContain("host");
    }

    [Fact]
    public void MissingFilesAreReportedBeforeBooting()
    {
        var test = LivepatchVmTest.Create(Path.Combine(_directory, "vmlinuz"), Path.Combine(_directory, "lp.ko"), _directory);
        var result = LivepatchVmRunner.Run(test);
        result.Passed.ShouldBeFalse();
        result.Diagnostics.Select(d => d.Code).ShouldBe(["KLP5010", "KLP5010"]);
        result.Diagnostics[0].Message.ShouldContain(Path.Combine(_directory, "vmlinuz"));
    }
}
