using Klp.Build.Vm;

namespace Klp.Build.Tests.Vm;

public sealed class KernelLogScannerTests
{
    private const string WarnLog = """
        [    2.100000] klp_demo: tainting kernel with TAINT_LIVEPATCH
        [    2.200000] livepatch: enabling patch 'klp_demo'
        [    2.300000] ------------[ cut here ]------------
        [    2.300001] WARNING: CPU: 0 PID: 1 at kernel/livepatch/core.c:123 klp_enable_patch+0x1/0x2
        [    2.300002] Modules linked in: klp_demo(OEK+)
        [    2.300003] CPU: 0 PID: 1 Comm: insmod Tainted: G           OE K    6.1.0-56-amd64 #1  Debian 6.1.192-2
        [    2.300004] RIP: 0010:klp_enable_patch+0x1/0x2
        [    2.300005] Call Trace:
        [    2.300006]  <TASK>
        [    2.300007]  do_one_initcall+0x41/0x200
        [    2.300008]  </TASK>
        [    2.300009] ---[ end trace 0000000000000000 ]---
        [    2.400000] livepatch: 'klp_demo': starting patching transition
        [    3.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008
        [    3.000001] #PF: supervisor read access in kernel mode
        [    3.000002] Oops: 0000 [#1] PREEMPT SMP NOPTI
        """;

    [Fact]
    public void ReportsEachSplatOnceWithSurroundingLines()
    {
        var findings = KernelLogScanner.Scan(WarnLog, "console.log");

        findings.Count.ShouldBe(2);
        findings[0].Trigger.ShouldStartWith("WARNING: CPU: 0 PID: 1 at kernel/livepatch/core.c:123");
        findings[0].LineNumber.ShouldBe(4);
        findings[0].Source.ShouldBe("console.log");
        findings[0].Excerpt.ShouldContain("enabling patch 'klp_demo'"); // lines before
        findings[0].Excerpt.ShouldContain("do_one_initcall");            // the trace, through the end marker
        findings[0].Excerpt.ShouldNotContain("starting patching transition");
        findings[1].Trigger.ShouldStartWith("BUG: kernel NULL pointer dereference");
        findings[1].Excerpt.ShouldContain("Oops: 0000");
    }

    [Theory]
    [InlineData("[    1.0] general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP")]
    [InlineData("[    1.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100")]
    [InlineData("[    1.0] Call Trace:")]
    [InlineData("Oops: 0002 [#1] SMP")]
    public void RecognizesEveryTrigger(string line)
    {
        KernelLogScanner.Scan("[    0.5] ok\n" + line + "\n[    1.1] after\n", "dmesg").ShouldHaveSingleItem().LineNumber.ShouldBe(2);
    }

    [Fact]
    public void CleanBootHasNoFindingsAndDuplicatesAcrossLogsAreDropped()
    {
        KernelLogScanner.Scan("[    0.0] Linux version 6.1.0\n[    2.1] klp_demo: loading out-of-tree module taints kernel.\n", "c").ShouldBeEmpty();
        var findings = KernelLogScanner.Scan((WarnLog, "console.log"), (WarnLog.Replace("[    2.3", "[    9.3"), "guest dmesg"));
        findings.Count.ShouldBe(2);
        findings.ShouldAllBe(f => f.Source == "console.log");
    }
}
