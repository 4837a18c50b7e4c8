using System.Text;
using Klp.Build.Vm;

namespace Klp.Build.Tests.Vm;

public sealed class GuestReportTests
{
    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void ParsesEveryEventIgnoringNoiseCarriageReturnsAndCutLines()
    {
        var log = string.Join("\r\n",
            "garbage before",
            "@@KLP START",
            "@@KLP SETUP 0 0 -",
            $"@@KLP PREREQ 0 1 {B64("insmod: can't insert 'x.ko': invalid module format\n")}",
            $"@@KLP CHECK unpatched c0 0 {B64("console=ttyS0\n")}",
            $"@@KLP CHECK patched c0 0 {B64("this has been live patched\n")}",
            "@@KLP CHECK disabled s0 2 -",
            "@@KLP INSMOD 0 -",
            "@@KLP REGISTERED 1",
            "@@KLP TRANSITION patched ok",
            "@@KLP TRANSITION disabled timeout",
            "@@KLP DISABLE 0 -",
            "@@KLP RMMOD 0 -",
            $"@@KLP DMESG 0 {B64("[    0.1] hello\n")}",
            "@@KLP END",
            "@@KLP CHECK patched c1 0 not*base64");

        var report = GuestReport.Parse(log);

        report.Started.ShouldBeTrue();
        report.Ended.ShouldBeTrue();
        report.Setup[0].ShouldBe(new GuestOutput(0, ""));
        report.Prerequisites[0].ExitCode.ShouldBe(1);
        report.Prerequisites[0].Output.ShouldContain("invalid module format");
        report.Checks[(VmPhase.Unpatched, "c0")].Output.ShouldBe("console=ttyS0\n");
        report.Checks[(VmPhase.Patched, "c0")].Output.ShouldBe("this has been live patched\n");
        report.Checks[(VmPhase.Disabled, "s0")].ShouldBe(new GuestOutput(2, ""));
        report.Checks.ContainsKey((VmPhase.Patched, "c1")).ShouldBeFalse();
        report.Insmod.ShouldBe(new GuestOutput(0, ""));
        report.Registered.ShouldBe(true);
        report.TransitionCompleted[VmPhase.Patched].ShouldBeTrue();
        report.TransitionCompleted[VmPhase.Disabled].ShouldBeFalse();
        report.Dmesg!.Output.ShouldBe("[    0.1] hello\n");
        report.LastEvent.ShouldBe("END");
    }

    [Fact]
    public void EmptyLogMeansTheGuestNeverStarted()
    {
        var report = GuestReport.Parse("");
        report.Started.ShouldBeFalse();
        report.Ended.ShouldBeFalse();
        report.LastEvent.ShouldBe("nothing");
    }
}
