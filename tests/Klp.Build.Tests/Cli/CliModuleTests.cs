using Klp.Build.Processes;
using Klp.Build.Tests.Sdk;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Cli;

/// <summary>
/// `klp convert` and `klp vm-test` on a real module built against 6.1: a livepatch that reads the unexported
/// saved_command_line is converted against the release's map, then proven in the release's own kernel.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class CliModuleTests : IDisposable
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");
    private static readonly Lazy<string> Unconverted = new(() =>
        TestKbuild.BuildModule(Release, "klp_cli_cmdline", TestLivepatches.UnresolvedSymbol, "KBUILD_MODPOST_WARN=1"));
    private readonly string _directory = Directory.CreateTempSubdirectory("klp-cli-module-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Convert()
    {
        var output = Path.Combine(_directory, "klp_cli_cmdline.ko");
        var result = KlpTool.BuildOutput.Run("convert", "--kernel-release", Release, "--verbose", Unconverted.Value, output);
        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardOutput.ShouldContain("saved_command_line -> .klp.sym.vmlinux.saved_command_line,0");
        return output;
    }

    [Fact]
    public void Convert_with_a_kernel_release_turns_the_unexported_symbol_into_a_livepatch_relocation()
    {
        var output = Convert();

        var sections = ProcessRunner.Run("readelf", ["-SW", output]).StandardOutput;
        sections.ShouldContain(".klp.rela.vmlinux..text");
        var symbols = ProcessRunner.Run("readelf", ["-sW", output]).StandardOutput;
        // SHN_LIVEPATCH (0xff20): the livepatch core, not the module loader, resolves the symbol.
        symbols.Split('\n').ShouldContain(l => l.Contains(".klp.sym.vmlinux.saved_command_line,0") && l.Contains("[0xff20]"));
        ProcessRunner.Run("modinfo", ["-F", "livepatch", output]).StandardOutput.Trim().ShouldBe("Y");
    }

    [Fact]
    public void Convert_copies_a_module_that_uses_only_exported_symbols()
    {
        var input = TestKbuild.BuildModule(Release, "klp_cli_exported", TestLivepatches.Cmdline);
        var output = Path.Combine(_directory, "klp_cli_exported.ko");

        var result = KlpTool.BuildOutput.Run("convert", "-k", Release, input, output);

        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardError.ShouldContain("nothing to convert");
        result.StandardError.ShouldNotContain("Symbol map of", customMessage: "the map (and its -dbg package) is not needed");
        File.ReadAllBytes(output).ShouldBe(File.ReadAllBytes(input));
    }

    [Fact]
    public void Convert_with_a_missing_map_is_KLP3010_and_writes_nothing()
    {
        var output = Path.Combine(_directory, "out.ko");
        var result = KlpTool.BuildOutput.Run("convert", Path.Combine(_directory, "no-such-map.klp"), Unconverted.Value, output);

        result.ExitCode.ShouldBe(1);
        result.StandardError.ShouldContain("error KLP3010: symbol map");
        File.Exists(output).ShouldBeFalse();
    }

    [Fact]
    public void Vm_test_proves_the_converted_module_in_the_target_kernel()
    {
        var module = Convert();

        var result = KlpTool.BuildOutput.Run("vm-test", Release, module, "--check", "cat /proc/cmdline=>patched: ", "--work-dir", Path.Combine(_directory, "vm"));

        result.ExitCode.ShouldBe(0, result.StandardOutput + result.StandardError);
        result.StandardError.ShouldContain($"Booting {Release} in QEMU to prove klp_cli_cmdline.ko");
        result.StandardError.ShouldContain($"klp_cli_cmdline.ko proven live in {Release}.");
        result.StandardOutput.ShouldContain("ok   check 1 `cat /proc/cmdline`");
        result.StandardOutput.ShouldContain("result: passed");
        // The patched output shows the kernel's own saved_command_line, reached through the converted relocation.
        System.Text.RegularExpressions.Regex.IsMatch(result.StandardOutput, @"^\s+patched:\s+patched: .*console=ttyS0", System.Text.RegularExpressions.RegexOptions.Multiline)
            .ShouldBeTrue(result.StandardOutput);
    }
}
