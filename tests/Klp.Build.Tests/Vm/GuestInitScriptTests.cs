using Klp.Build.Processes;
using Klp.Build.Vm;

namespace Klp.Build.Tests.Vm;

public sealed class GuestInitScriptTests
{
    private static readonly GuestPlan Plan = new(
        "klp_demo", "/klp/klp-demo.ko", ["/klp/modules/00-a.ko", "/klp/modules/01-b.ko"], ["/klp/setup/0.sh"],
        [new GuestCheck("c0", "/klp/checks/c0.sh"), new GuestCheck("s0", "/klp/checks/s0-x.sh")], TimeSpan.FromSeconds(5));

    private static readonly string Script = GuestInitScript.Generate(Plan);

    [Fact]
    public void LatePatchingLoadsThePatchBeforeTheModulesAndHasNoUnpatchedPhase()
    {
        var script = GuestInitScript.Generate(Plan with { LoadPatchFirst = true });
        string[] steps = ["insmod /klp/klp-demo.ko", "TRANSITION patched ok", "insmod /klp/modules/00-a.ko", "sh /klp/setup/0.sh",
                          "run_checks patched", "run_checks disabled"];
        var from = 0;
        foreach (var step in steps)
        {
            var index = script.IndexOf(step, from, StringComparison.Ordinal);
            index.ShouldBeGreaterThanOrEqualTo(0, $"'{step}' missing or out of order");
            from = index + step.Length;
        }
        script.ShouldNotContain("run_checks unpatched");
    }

    [Fact]
    public void StepsComeInTheDocumentedOrder()
    {
        string[] steps =
        [
            "mount -t proc proc /proc", "mount -t sysfs sysfs /sys", "mount -t devtmpfs devtmpfs /dev",
            "exec 3>/dev/ttyS1", "insmod /klp/modules/00-a.ko", "insmod /klp/modules/01-b.ko", "sh /klp/setup/0.sh",
            "run_checks unpatched", "insmod /klp/klp-demo.ko", "REGISTERED 1", "TRANSITION patched ok", "run_checks patched",
            "echo 0 > $LP/enabled", "TRANSITION disabled ok", "run_checks disabled", "rmmod klp_demo > $OUT", "\nfinish\n",
        ];
        var from = 0;
        foreach (var step in steps)
        {
            var index = Script.IndexOf(step, from, StringComparison.Ordinal);
            index.ShouldBeGreaterThanOrEqualTo(0, $"'{step}' missing or out of order");
            from = index + step.Length;
        }
        Script.ShouldStartWith("#!/bin/sh\n");
        Script.ShouldContain("LP=/sys/kernel/livepatch/klp_demo");
        Script.ShouldContain("dmesg > $OUT");
        Script.ShouldContain("poweroff -f");
        Script.ShouldNotContain("\r");
    }

    [Fact]
    public void ChecksGetThePhaseAndTheTransitionTimeoutIsInTenthsOfSeconds()
    {
        Script.ShouldContain("sh /klp/checks/c0.sh $1 > $OUT 2>&1");
        Script.ShouldContain("emit \"CHECK $1 c0 $?\" $OUT");
        Script.ShouldContain("sh /klp/checks/s0-x.sh $1");
        Script.ShouldContain("while [ $n -lt 50 ]");
    }

    [Fact]
    public void ScriptIsValidBusyboxShell()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, Script);
        try
        {
            var run = ProcessRunner.Run("/bin/busybox", ["sh", "-n", file]);
            run.ExitCode.ShouldBe(0, run.StandardError);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void EmitAndRunChecksWorkUnderBusyboxOnTheHost()
    {
        // Run the script's helper functions (not the whole /init) with fd 3 pointing to a file instead of ttyS1.
        var directory = Directory.CreateTempSubdirectory("klp-init-").FullName;
        try
        {
            var check = Path.Combine(directory, "c0.sh");
            File.WriteAllText(check, "echo \"phase=$1 env=$KLP_PHASE\"; exit 3\n");
            var plan = Plan with { Checks = [new GuestCheck("c0", check)] };
            var script = GuestInitScript.Generate(plan);
            var functions = script[script.IndexOf("emit() {", StringComparison.Ordinal)..script.IndexOf("echo \"@@KLP START\"", StringComparison.Ordinal)];
            var results = Path.Combine(directory, "results");
            var harness = $"OUT={directory}/out\nexec 3>{results}\n{functions}\nrun_checks patched\n";
            File.WriteAllText(Path.Combine(directory, "harness.sh"), harness);
            var run = ProcessRunner.Run("/bin/busybox", ["sh", Path.Combine(directory, "harness.sh")]);
            run.ExitCode.ShouldBe(0, run.StandardError);

            var report = GuestReport.Parse(File.ReadAllText(results));
            report.Checks[(VmPhase.Patched, "c0")].ShouldBe(new GuestOutput(3, "phase=patched env=patched\n"));
        }
        finally { Directory.Delete(directory, true); }
    }

    [Fact]
    public void RejectsPatchNamesThatAreNotSysfsNames()
    {
        Should.Throw<ArgumentException>(() => GuestInitScript.Generate(Plan with { PatchName = "klp-demo" }));
    }
}
