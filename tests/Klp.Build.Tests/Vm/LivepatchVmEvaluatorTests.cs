using System.Text;
using Klp.Build.Vm;

namespace Klp.Build.Tests.Vm;

public sealed class LivepatchVmEvaluatorTests
{
    private static readonly LivepatchVmTest Test = new(
        "/k/vmlinuz", "/p/klp-demo.ko", "klp_demo", ["/m/target.ko"], [],
        [new VmCheck("cat /proc/cmdline", ExpectPatched: "live patched", ExpectUnpatched: "console="), new VmCheck("cat /proc/version")],
        ["/s/check.sh"], "/w", TimeSpan.FromSeconds(60));

    private static readonly QemuRun Finished = new(0, false, TimeSpan.FromSeconds(9), "");

    private static string B64(string text) => text.Length == 0 ? "-" : Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string Check(string phase, string id, string output, int exit = 0) => $"@@KLP CHECK {phase} {id} {exit} {B64(output)}";

    private static GuestReport Good(Func<string, string>? edit = null)
    {
        var lines = new[]
        {
            "@@KLP START", "@@KLP PREREQ 0 0 -",
            Check("unpatched", "c0", "console=ttyS0\n"), Check("unpatched", "c1", "Linux 6.1\n"), Check("unpatched", "s0", ""),
            "@@KLP INSMOD 0 -", "@@KLP REGISTERED 1", "@@KLP TRANSITION patched ok",
            Check("patched", "c0", "this has been live patched\n"), Check("patched", "c1", "Linux 6.1 patched\n"), Check("patched", "s0", ""),
            "@@KLP DISABLE 0 -", "@@KLP TRANSITION disabled ok",
            Check("disabled", "c0", "console=ttyS0\n"), Check("disabled", "c1", "Linux 6.1\n"), Check("disabled", "s0", ""),
            "@@KLP RMMOD 0 -", $"@@KLP DMESG 0 {B64("[ 1.0] livepatch: enabling patch 'klp_demo'\n")}", "@@KLP END",
        };
        var text = string.Join('\n', lines);
        return GuestReport.Parse(edit is null ? text : edit(text));
    }

    private static LivepatchVmEvaluator.Evaluation Evaluate(GuestReport report, QemuRun? qemu = null, string console = "") =>
        LivepatchVmEvaluator.Evaluate(Test, report, qemu ?? Finished, console, "/w/console.log");

    [Fact]
    public void AGoodRunHasNoDiagnostics()
    {
        var evaluation = Evaluate(Good());
        evaluation.Diagnostics.ShouldBeEmpty();
        evaluation.Checks.Select(c => c.Id).ShouldBe(["c0", "c1", "s0"]);
        evaluation.Checks.ShouldAllBe(c => c.Passed && c.Outputs.Count == 3);
    }

    [Fact]
    public void PatchedOutputMissingTheExpectationFails()
    {
        var d = Evaluate(Good(t => t.Replace(B64("this has been live patched\n"), B64("console=ttyS0\n")))).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5003");
        d.Message.ShouldContain("check 1 `cat /proc/cmdline`");
        d.Message.ShouldContain("phase patched");
        d.Message.ShouldContain("\"live patched\"");
        d.Message.ShouldContain("actual output: \"console=ttyS0\"");
        d.File.ShouldBe("/p/klp-demo.ko");
    }

    [Fact]
    public void WithoutExpectationPatchedOutputMustDiffer()
    {
        var d = Evaluate(Good(t => t.Replace(B64("Linux 6.1 patched\n"), B64("Linux 6.1  \n")))).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5003");
        d.Message.ShouldContain("check 2");
        d.Message.ShouldContain("different from the unpatched output");
    }

    [Fact]
    public void DisabledOutputMustEqualUnpatchedExactly()
    {
        var report = Good(t => t.Replace(Check("disabled", "c1", "Linux 6.1\n"), Check("disabled", "c1", "Linux 6.1\n\n")));
        var d = Evaluate(report).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5003");
        d.Message.ShouldContain("phase disabled");
    }

    [Fact]
    public void UnpatchedExpectationAndScriptExitCodesAreChecked()
    {
        var report = Good(t => t
            .Replace(Check("unpatched", "c0", "console=ttyS0\n"), Check("unpatched", "c0", "quiet\n"))
            .Replace(Check("patched", "s0", ""), Check("patched", "s0", "not patched!\n", 1)));
        var diagnostics = Evaluate(report).Diagnostics;
        diagnostics.Select(d => d.Code).ShouldBe(["KLP5003", "KLP5003", "KLP5003"]);
        diagnostics[0].Message.ShouldContain("phase unpatched");
        diagnostics[1].Message.ShouldContain("phase disabled"); // disabled no longer equals the changed unpatched output
        diagnostics[2].Message.ShouldContain("check script /s/check.sh");
        diagnostics[2].Message.ShouldContain("phase patched (exit 1)");
        diagnostics[2].Message.ShouldContain("not patched!");
        diagnostics[2].File.ShouldBe("/s/check.sh");
    }

    [Fact]
    public void PatchLoadFailureQuotesInsmodAndRelevantDmesg()
    {
        var dmesg = "[ 0.5] Linux version 6.1\n[ 2.6] klp_demo: Unknown symbol saved_command_line (err -2)\n";
        var text = string.Join('\n', "@@KLP START", Check("unpatched", "c0", "console=ttyS0\n"),
            $"@@KLP INSMOD 1 {B64("insmod: can't insert '/klp/klp-demo.ko': unknown symbol in module\n")}",
            $"@@KLP DMESG 0 {B64(dmesg)}", "@@KLP END");
        var d = Evaluate(GuestReport.Parse(text)).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5006");
        d.Message.ShouldContain("/p/klp-demo.ko failed to load: insmod: can't insert");
        d.Message.ShouldContain("Unknown symbol saved_command_line");
        d.Message.ShouldNotContain("Linux version");
    }

    [Fact]
    public void ModuleThatRegistersNoLivepatchIsKlp5006()
    {
        var text = string.Join('\n', "@@KLP START", "@@KLP INSMOD 0 -", "@@KLP REGISTERED 0", "@@KLP RMMOD 0 -", "@@KLP END");
        var d = Evaluate(GuestReport.Parse(text)).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5006");
        d.Message.ShouldContain("registered no livepatch /sys/kernel/livepatch/klp_demo");
    }

    [Fact]
    public void PrerequisiteFailureTransitionTimeoutAndSetupFailureHaveTheirCodes()
    {
        Evaluate(GuestReport.Parse($"@@KLP START\n@@KLP PREREQ 0 1 {B64("insmod: can't insert\n")}\n@@KLP END"))
            .Diagnostics.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
                d => d.Code.ShouldBe("KLP5009"), d => d.Message.ShouldContain("/m/target.ko"), d => d.File.ShouldBe("/m/target.ko"));
        Evaluate(GuestReport.Parse("@@KLP START\n@@KLP INSMOD 0 -\n@@KLP REGISTERED 1\n@@KLP TRANSITION patched timeout\n@@KLP END"))
            .Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("KLP5007");
        var withSetup = Test with { SetupCommands = ["mount -t binfmt_misc none /proc/sys/fs/binfmt_misc"] };
        LivepatchVmEvaluator.Evaluate(withSetup, GuestReport.Parse($"@@KLP START\n@@KLP SETUP 0 255 {B64("mount: no such device\n")}\n@@KLP END"), Finished, "", "c")
            .Diagnostics.ShouldHaveSingleItem().Message.ShouldContain("mount -t binfmt_misc");
    }

    [Fact]
    public void TimeoutAndEarlyStopAreKlp5005WithTheConsoleTail()
    {
        var report = GuestReport.Parse("@@KLP START\n" + Check("unpatched", "c0", "console=ttyS0\n"));
        var timeout = Evaluate(report, new QemuRun(-1, true, TimeSpan.FromSeconds(60), "timed out"), "[ 1.0] booting\n[ 2.0] last words\n");
        var d = timeout.Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5005");
        d.Message.ShouldContain("within 60 s");
        d.Message.ShouldContain("last guest event: CHECK unpatched c0");
        d.Message.ShouldContain("/w/console.log");
        d.Message.ShouldContain("last words");
        Evaluate(report, new QemuRun(1, false, TimeSpan.FromSeconds(1), "qemu: could not load kernel"))
            .Diagnostics.ShouldHaveSingleItem().Message.ShouldContain("could not load kernel");
    }

    [Fact]
    public void KernelSplatsInConsoleOrDmesgAreKlp5004()
    {
        var console = "[ 2.0] ------------[ cut here ]------------\n[ 2.1] WARNING: CPU: 0 PID: 1 at mm/slub.c:1 x+0x1\n[ 2.2] ---[ end trace 0 ]---\n";
        var evaluation = Evaluate(Good(), console: console);
        var d = evaluation.Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("KLP5004");
        d.Message.ShouldContain("WARNING: CPU: 0 PID: 1 at mm/slub.c:1");
        d.Message.ShouldContain("/w/console.log line 2");
        evaluation.KernelFindings.Count.ShouldBe(1);
    }

    [Fact]
    public void TranscriptShowsEveryPhase()
    {
        var evaluation = Evaluate(Good());
        var result = new VmTestResult(true, "klp_demo", "/k/vmlinuz", "tcg", TimeSpan.FromSeconds(9.5), evaluation.Checks, [], [], "/w/console.log", "/w/results.log", null);
        var transcript = result.Transcript;
        transcript.ShouldContain("Livepatch proof: klp_demo in /k/vmlinuz (qemu tcg, 9.5 s)");
        transcript.ShouldContain("ok   check 1 `cat /proc/cmdline`\n     unpatched: console=ttyS0\n     patched:   this has been live patched\n     disabled:  console=ttyS0\n");
        transcript.ShouldContain("result: passed");
    }
}
