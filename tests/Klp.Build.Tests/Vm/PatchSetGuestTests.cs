using System.Text;
using Klp.Build.Processes;
using Klp.Build.Vm;

namespace Klp.Build.Tests.Vm;

/// <summary>A PerObject patch set in the guest: applied and reverted by the package's apply command, judged as one patch.</summary>
public sealed class PatchSetGuestTests
{
    private static readonly GuestPatchSet GuestSet = new("/klp/pkg/tools/klp-apply", ["demo_vmlinux", "demo_binfmt_misc"]);

    private static readonly GuestPlan Plan = new(
        "demo", "/klp/demo.ko", ["/klp/modules/00-binfmt_misc.ko"], ["/klp/setup/0.sh"], [new GuestCheck("c0", "/klp/checks/c0.sh")],
        TimeSpan.FromSeconds(5), PatchSet: GuestSet);

    private static readonly VmPatchSet Set = new("demo", "/pkg/klp-apply", "/out/demo.manifest.json", "6.1.0-1-amd64",
        [new VmPatchSetModule("demo_vmlinux", "/out/demo_vmlinux.ko"), new VmPatchSetModule("demo_binfmt_misc", "/out/demo_binfmt_misc.ko")]);

    private static readonly LivepatchVmTest Test = new(
        "/k/vmlinuz", Set.Manifest, "demo", ["/m/binfmt_misc.ko"], [], [new VmCheck("cat /proc/cmdline", ExpectPatched: "patched")], [], "/w",
        TimeSpan.FromSeconds(60)) { PatchSet = Set };

    [Fact]
    public void The_apply_command_loads_the_set_after_the_unpatched_checks_and_reverts_it_before_the_disabled_ones()
    {
        var script = GuestInitScript.Generate(Plan);
        string[] steps =
        [
            "insmod /klp/modules/00-binfmt_misc.ko", "sh /klp/setup/0.sh", "run_checks unpatched",
            "KLP_TRANSITION_TIMEOUT=5 sh /klp/pkg/tools/klp-apply apply > $OUT", "INSMOD $rc", "for m in demo_vmlinux demo_binfmt_misc",
            "REGISTERED 1", "wait_transition /sys/kernel/livepatch/$m", "TRANSITION patched ok", "run_checks patched",
            "sh /klp/pkg/tools/klp-apply revert > $OUT", "DISABLE $?", "TRANSITION disabled ok", "run_checks disabled",
            "grep -q \"^$m \" /proc/modules", "RMMOD $?", "\nfinish\n",
        ];
        var from = 0;
        foreach (var step in steps)
        {
            var index = script.IndexOf(step, from, StringComparison.Ordinal);
            index.ShouldBeGreaterThanOrEqualTo(0, $"'{step}' missing or out of order:\n{script}");
            from = index + step.Length;
        }
        script.ShouldNotContain("insmod /klp/demo.ko");
        script.ShouldNotContain("echo 0 > $LP/enabled");
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, script);
            var run = ProcessRunner.Run("/bin/busybox", ["sh", "-n", file]);
            run.ExitCode.ShouldBe(0, run.StandardError);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void A_livepatch_name_of_the_set_that_is_not_a_shell_word_is_refused()
    {
        Should.Throw<ArgumentException>(() => GuestInitScript.Generate(Plan with { PatchSet = GuestSet with { PatchNames = ["demo_vmlinux", "x; reboot"] } }))
            .Message.ShouldContain("x; reboot");
    }

    [Fact]
    public void The_initramfs_holds_the_package_layout_the_apply_command_expects()
    {
        var directory = Directory.CreateTempSubdirectory("klp-set-").FullName;
        try
        {
            var manifest = Path.Combine(directory, "demo.manifest.json");
            File.WriteAllText(manifest, """
                { "patch": "demo", "kernelRelease": "6.1.0-1-amd64", "vermagic": "", "packaging": "PerObject", "modules": [
                  { "module": "demo_binfmt_misc", "file": "demo_binfmt_misc.ko", "loadOrder": 2, "sha256": "", "objects": [] },
                  { "module": "demo_vmlinux", "file": "demo_vmlinux.ko", "loadOrder": 1, "sha256": "", "objects": [] } ] }
                """);
            File.WriteAllText(Path.Combine(directory, "demo_vmlinux.ko"), "vmlinux module");
            File.WriteAllText(Path.Combine(directory, "demo_binfmt_misc.ko"), "binfmt_misc module");
            var apply = Path.Combine(directory, "klp-apply");
            File.WriteAllText(apply, "#!/bin/sh\n");

            var set = VmPatchSet.FromManifest(manifest, apply);
            set.Patch.ShouldBe("demo");
            set.KernelRelease.ShouldBe("6.1.0-1-amd64");
            set.Modules.Select(m => m.Name).ShouldBe(["demo_vmlinux", "demo_binfmt_misc"]);

            var test = LivepatchVmTest.Create("/k/vmlinuz", manifest, directory) with { PatchName = "demo", PatchSet = set };
            var initramfs = InitramfsBuilder.Build(test, "/bin/busybox", directory);
            initramfs.Entries.ShouldContain("klp/pkg/tools/klp-apply");
            initramfs.Entries.ShouldContain("klp/pkg/kernels/6.1.0-1-amd64/manifest.json");
            initramfs.Entries.ShouldContain("klp/pkg/kernels/6.1.0-1-amd64/demo_vmlinux.ko");
            initramfs.Entries.ShouldContain("klp/pkg/kernels/6.1.0-1-amd64/demo_binfmt_misc.ko");
            initramfs.Plan.PatchSet.ShouldNotBeNull().ApplyCommandPath.ShouldBe("/klp/pkg/tools/klp-apply");
            initramfs.Plan.PatchSet.PatchNames.ShouldBe(["demo_vmlinux", "demo_binfmt_misc"]);
        }
        finally { Directory.Delete(directory, true); }
    }

    private static string B64(string text) => text.Length == 0 ? "-" : Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static GuestReport Report(Func<string, string>? edit = null)
    {
        var text = string.Join('\n',
            "@@KLP START", "@@KLP PREREQ 0 0 -", $"@@KLP CHECK unpatched c0 0 {B64("console=ttyS0\n")}",
            $"@@KLP INSMOD 0 {B64("klp-apply: demo_vmlinux enabled\n")}", "@@KLP REGISTERED 1", "@@KLP TRANSITION patched ok",
            $"@@KLP CHECK patched c0 0 {B64("patched\n")}", $"@@KLP DISABLE 0 {B64("klp-apply: reverted demo\n")}", "@@KLP TRANSITION disabled ok",
            $"@@KLP CHECK disabled c0 0 {B64("console=ttyS0\n")}", $"@@KLP RMMOD 0 {B64("still loaded:\n")}", "@@KLP DMESG 0 -", "@@KLP END");
        return GuestReport.Parse(edit is null ? text : edit(text));
    }

    private static IReadOnlyList<Klp.Build.Diagnostics.Diagnostic> Diagnostics(GuestReport report) =>
        LivepatchVmEvaluator.Evaluate(Test, report, new QemuRun(0, false, TimeSpan.FromSeconds(9), ""), "", "/w/console.log").Diagnostics;

    [Fact]
    public void A_good_set_run_has_no_diagnostics() => Diagnostics(Report()).ShouldBeEmpty();

    [Fact]
    public void A_refused_apply_quotes_the_apply_command()
    {
        var output = "klp-apply: error KLP6303: loading demo_binfmt_misc.ko (load order 2) failed\n";
        var d = Diagnostics(Report(t => t.Replace($"@@KLP INSMOD 0 {B64("klp-apply: demo_vmlinux enabled\n")}", $"@@KLP INSMOD 1 {B64(output)}"))).ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5006");
        d.Message.ShouldContain("tools/klp-apply could not apply the patch demo (demo_vmlinux, demo_binfmt_misc)");
        d.Message.ShouldContain("error KLP6303: loading demo_binfmt_misc.ko");
        d.File.ShouldBe(Set.Manifest);
    }

    [Fact]
    public void A_revert_that_fails_or_leaves_modules_loaded_is_KLP5007()
    {
        var failed = Diagnostics(Report(t => t.Replace($"@@KLP DISABLE 0 {B64("klp-apply: reverted demo\n")}", $"@@KLP DISABLE 1 {B64("klp-apply: error KLP6306: could not unload\n")}")));
        failed.ShouldHaveSingleItem().Code.ShouldBe("KLP5007");
        failed[0].Message.ShouldContain("could not revert the patch demo");
        var left = Diagnostics(Report(t => t.Replace($"@@KLP RMMOD 0 {B64("still loaded:\n")}", $"@@KLP RMMOD 1 {B64("still loaded: demo_binfmt_misc\n")}")));
        left.ShouldHaveSingleItem().Code.ShouldBe("KLP5007");
        left[0].Message.ShouldContain("modules stayed loaded (still loaded: demo_binfmt_misc)");
        var timeout = Diagnostics(Report(t => t.Replace("TRANSITION patched ok", "TRANSITION patched timeout")));
        timeout.ShouldHaveSingleItem().Message.ShouldContain("did not all finish their transition to \"patched\"");
    }
}
