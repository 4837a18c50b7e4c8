using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>
/// `dotnet build -t:Test` on a PerObject project: one boot of the target kernel, the patch modules applied together by
/// the shipped apply command from this build's manifest, every VmCheck unpatched, patched and after the revert.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class PerObjectVmTestTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    private const string Livepatches = "echo `ls /sys/kernel/livepatch` `cat /sys/kernel/livepatch/*/enabled 2&gt;/dev/null`; cat /etc/modprobe.d/pertest.conf 2&gt;/dev/null || true";

    [Fact]
    public void Test_applies_the_PerObject_modules_as_a_unit_proves_each_check_and_a_failing_check_fails_the_build()
    {
        using var project = PerObjectLivepatch.Create("pertest", Release, "<EnableSafetyAnalysis>false</EnableSafetyAnalysis>", items: $"""
            <VmSetupCommand Include="mkdir -p /binfmt &amp;&amp; mount -t binfmt_misc binfmt_misc /binfmt" />
            <VmCheck Include="cat /proc/cmdline" ExpectedPatched="{PerObjectLivepatch.CmdlinePatched}" />
            <VmCheck Include="cat /binfmt/status" ExpectedPatched="{PerObjectLivepatch.StatusPatched}" ExpectedUnpatched="enabled" />
            <VmCheck Include="livepatches" Command="{Livepatches}" ExpectedPatched="pertest_binfmt_misc pertest_vmlinux 1 1" />
            <VmCheck Include="never" Command="cat /proc/cmdline" ExpectedPatched="text that never appears" Condition="'$(FailingCheck)' == 'true'" />
            """);

        var result = project.Build("-t:Test");

        result.Succeeded.ShouldBeTrue(result.ToString());
        var cmdline = Phases(result.Output, 1);
        cmdline["patched"].ShouldBe(PerObjectLivepatch.CmdlinePatched);
        cmdline["unpatched"].ShouldNotContain("patched");
        cmdline["disabled"].ShouldBe(cmdline["unpatched"]);
        var status = Phases(result.Output, 2);
        (status["unpatched"], status["patched"], status["disabled"]).ShouldBe(("enabled", PerObjectLivepatch.StatusPatched, "enabled"));
        // Both modules live together, installed by klp-apply (its modprobe.d softdeps), then all gone after the revert.
        var livepatches = Phases(result.Output, 3);
        livepatches["unpatched"].ShouldBe("");
        livepatches["patched"].ShouldBe("pertest_binfmt_misc pertest_vmlinux 1 1");
        result.Output.ShouldContain("softdep binfmt_misc post: pertest_binfmt_misc");
        livepatches["disabled"].ShouldBe("");
        result.Output.ShouldContain("result: passed");
        foreach (var module in new[] { "pertest_vmlinux.ko", "pertest_binfmt_misc.ko" })
            result.Output.ShouldContain($"-> {Path.Combine(project.OutputDirectory(Release), module)} (proven live in {Release})", Case.Sensitive, result.ToString());

        var failing = project.Build("-t:Test", "-p:FailingCheck=true");

        failing.Succeeded.ShouldBeFalse(failing.ToString());
        failing.Output.ShouldContain("FAIL check 4 `cat /proc/cmdline`");
        failing.Errors.ShouldContain(e => e.Code == "KLP5003" && e.Message.Contains("phase patched: expected output containing \"text that never appears\""), failing.ToString());
        failing.Output.ShouldContain("result: FAILED");
        failing.Output.ShouldNotContain("proven live");
        Phases(failing.Output, 1)["patched"].ShouldBe(PerObjectLivepatch.CmdlinePatched);
    }

    /// <summary>Check <paramref name="number"/>'s first output line per phase in the transcript; the check passed ("ok").</summary>
    private static Dictionary<string, string> Phases(string output, int number)
    {
        var lines = output.Split('\n').Select(l => l.Trim()).ToList();
        var at = lines.FindIndex(l => l.StartsWith($"ok   check {number} `", StringComparison.Ordinal));
        at.ShouldBeGreaterThanOrEqualTo(0, $"check {number} did not pass:\n{output}");
        var phases = new Dictionary<string, string>();
        foreach (var line in lines.Skip(at + 1).TakeWhile(l => !l.StartsWith("ok ", StringComparison.Ordinal) && !l.StartsWith("FAIL ", StringComparison.Ordinal)))
            foreach (var phase in new[] { "unpatched", "patched", "disabled" })
                if (line.StartsWith(phase + ":", StringComparison.Ordinal))
                    phases.TryAdd(phase, line[(phase.Length + 1)..].Trim());
        return phases;
    }
}
