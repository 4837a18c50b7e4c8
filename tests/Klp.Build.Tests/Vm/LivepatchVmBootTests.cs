using Klp.Build.Tests.Support;
using Klp.Build.Vm;
using Xunit.Abstractions;

namespace Klp.Build.Tests.Vm;

/// <summary>The newest Debian 6.1 kernel, its kbuild tree and the cmdline livepatch built against it (shared by the boots).</summary>
public sealed class Kernel61Fixture
{
    public string Release { get; } = TestKernels.NewestRelease("6.1");
    public string ImageRoot { get; }
    public string Kernel { get; }
    private readonly Lazy<string> _cmdlinePatch;

    public Kernel61Fixture()
    {
        ImageRoot = TestKernels.ImageRoot(Release);
        Kernel = Path.Combine(ImageRoot, "boot", $"vmlinuz-{Release}");
        _cmdlinePatch = new(() => TestKbuild.BuildModule(Release, "klp_cmdline", TestLivepatches.Cmdline));
    }

    public string CmdlinePatch => _cmdlinePatch.Value;

    public string Module(string relative) => Path.Combine(ImageRoot, "lib", "modules", Release, "kernel", relative);
}

/// <summary>Real boots of the target kernel under QEMU (about 10 s each with TCG): kept few.</summary>
[Trait("Category", "Boot")]
public sealed class LivepatchVmBootTests(Kernel61Fixture kernel, ITestOutputHelper output) : IClassFixture<Kernel61Fixture>
{
    private LivepatchVmTest Test(string module, params VmCheck[] checks) =>
        LivepatchVmTest.Create(kernel.Kernel, module, Directory.CreateTempSubdirectory("klp-vm-").FullName, checks) with
        {
            Accelerator = "tcg",
            Timeout = TimeSpan.FromMinutes(2),
        };

    private VmTestResult Run(LivepatchVmTest test)
    {
        var result = LivepatchVmRunner.Run(test, output.WriteLine);
        output.WriteLine(result.Transcript);
        return result;
    }

    [Fact]
    public void CmdlinePatchIsProvenWithPrerequisiteSetupAndScript()
    {
        var script = Path.Combine(Directory.CreateTempSubdirectory("klp-vm-script-").FullName, "phase-check.sh");
        File.WriteAllText(script, """
            test -f /tmp/setup/ran || { echo "setup did not run"; exit 1; }
            grep -q '^binfmt_misc ' /proc/modules || { echo "binfmt_misc not loaded"; exit 1; }
            case "$1" in
              patched) grep -q 'live patched' /proc/cmdline ;;
              unpatched|disabled) ! grep -q 'live patched' /proc/cmdline ;;
              *) echo "unknown phase $1"; exit 2 ;;
            esac
            """);
        var test = Test(kernel.CmdlinePatch,
            new VmCheck("cat /proc/cmdline", ExpectPatched: TestLivepatches.CmdlineMarker, ExpectUnpatched: "console=ttyS0"),
            new VmCheck("cat /proc/cmdline")) with
        {
            PrerequisiteModules = [kernel.Module("fs/binfmt_misc.ko")],
            SetupCommands = ["mkdir -p /tmp/setup && touch /tmp/setup/ran"],
            CheckScripts = [script],
        };

        var result = Run(test);

        result.Diagnostics.ShouldBeEmpty(string.Join('\n', result.Diagnostics));
        result.Passed.ShouldBeTrue();
        result.PatchName.ShouldBe("klp_cmdline");
        var cmdline = result.Checks[0];
        cmdline.Outputs[VmPhase.Unpatched].Output.ShouldContain("console=ttyS0");
        cmdline.Outputs[VmPhase.Patched].Output.Trim().ShouldBe(TestLivepatches.CmdlineMarker);
        cmdline.Outputs[VmPhase.Disabled].Output.ShouldBe(cmdline.Outputs[VmPhase.Unpatched].Output);
        result.Checks[2].IsScript.ShouldBeTrue();
        result.Checks[2].Outputs.Count.ShouldBe(3);
        result.GuestDmesg.ShouldNotBeNull().ShouldContain("klp_cmdline");
        result.Transcript.ShouldContain("patched:   " + TestLivepatches.CmdlineMarker);
        File.Exists(result.ConsoleLog).ShouldBeTrue();
    }

    [Fact]
    public void WrongExpectationReportsKlp5003WithPhaseAndBothTexts()
    {
        var result = Run(Test(kernel.CmdlinePatch, new VmCheck("cat /proc/cmdline", ExpectPatched: "no such text")));

        result.Passed.ShouldBeFalse();
        var diagnostic = result.Diagnostics.ShouldHaveSingleItem();
        diagnostic.Code.ShouldBe("KLP5003");
        diagnostic.Message.ShouldContain("check 1 `cat /proc/cmdline`");
        diagnostic.Message.ShouldContain("phase patched");
        diagnostic.Message.ShouldContain("no such text");
        diagnostic.Message.ShouldContain(TestLivepatches.CmdlineMarker);
        // The rest of the run still happened: disabled equals unpatched.
        result.Checks[0].Outputs[VmPhase.Disabled].ShouldBe(result.Checks[0].Outputs[VmPhase.Unpatched]);
    }

    [Fact]
    public void UnresolvableSymbolReportsKlp5006WithInsmodErrorAndDmesg()
    {
        var module = TestKbuild.BuildModule(kernel.Release, "klp_unresolved", TestLivepatches.UnresolvedSymbol, "KBUILD_MODPOST_WARN=1");

        var result = Run(Test(module, new VmCheck("cat /proc/cmdline")));

        result.Passed.ShouldBeFalse();
        var diagnostic = result.Diagnostics.ShouldHaveSingleItem();
        diagnostic.Code.ShouldBe("KLP5006");
        diagnostic.Message.ShouldContain(module);
        diagnostic.Message.ShouldContain("insmod");
        diagnostic.Message.ShouldContain("Unknown symbol saved_command_line");
        result.Checks[0].Outputs.Keys.ShouldBe([VmPhase.Unpatched]);
    }

    [Fact]
    public void VmThatDoesNotFinishInTimeIsKilledAndReportedAsKlp5005()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = Run(Test(kernel.CmdlinePatch, new VmCheck("cat /proc/cmdline")) with { Timeout = TimeSpan.FromSeconds(2) });

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
        result.Passed.ShouldBeFalse();
        var diagnostic = result.Diagnostics.ShouldHaveSingleItem();
        diagnostic.Code.ShouldBe("KLP5005");
        diagnostic.Message.ShouldContain("did not finish within 2 s");
        diagnostic.Message.ShouldContain(result.ConsoleLog!);
    }

    [Fact]
    public void AutoAcceleratorProbesKvmOnceWithinFifteenSeconds()
    {
        var work = Directory.CreateTempSubdirectory("klp-vm-probe-").FullName;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var first = Qemu.ResolveAccelerator("auto", "/usr/bin/qemu-system-x86_64", kernel.Kernel, "/bin/busybox", work, output.WriteLine);
        var firstTime = clock.Elapsed;
        var second = Qemu.ResolveAccelerator("auto", "/usr/bin/qemu-system-x86_64", kernel.Kernel, "/bin/busybox", work, output.WriteLine);

        first.ShouldBeOneOf("kvm", "tcg");
        second.ShouldBe(first);
        firstTime.ShouldBeLessThan(TimeSpan.FromSeconds(25));
        (clock.Elapsed - firstTime).ShouldBeLessThan(TimeSpan.FromSeconds(1));
        Qemu.ResolveAccelerator("tcg", "q", "k", "b", work, output.WriteLine).ShouldBe("tcg");
    }
}
