using System.Text.RegularExpressions;
using Klp.Build.Analysis;
using Klp.Build.Processes;
using Klp.Build.Tests.Sdk;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Cli;

/// <summary>`klp analyze`: the SDK's safety analysis over the real 6.1 target, without a project.</summary>
[Collection(SdkCollection.Name)]
public sealed class CliAnalyzeTests : IDisposable
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");
    private static readonly Lazy<HashSet<string>> Names = new(() =>
        Regex.Matches(ProcessRunner.Run("nm", [TestKernels.DebugVmlinux(Release)]).StandardOutput, @"^[0-9a-f]+ \w (\S+)$", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToHashSet());
    private readonly string _directory = Directory.CreateTempSubdirectory("klp-cli-analyze-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_fully_inlined_function_is_KLP4101_naming_its_caller()
    {
        Names.Value.ShouldNotContain("show_val_kb", "the test expects show_val_kb to be fully inlined in this kernel");
        Names.Value.ShouldContain("cmdline_proc_show");
        var json = Path.Combine(_directory, "report.json");

        var result = KlpTool.BuildOutput.Run("analyze", Release, "show_val_kb", "cmdline_proc_show", "--json", json);

        result.ExitCode.ShouldBe(1, result.StandardError);
        Regex.IsMatch(result.StandardError, @"^klp: error KLP4101: 'show_val_kb' .*meminfo_proc_show", RegexOptions.Multiline).ShouldBeTrue(result.StandardError);
        result.StandardOutput.ShouldContain("vmlinux:cmdline_proc_show: clean");
        result.StandardOutput.ShouldContain("KLP4101");
        var report = SafetyReport.FromJson(File.ReadAllText(json)).ShouldNotBeNull();
        report.Functions.Select(f => f.Request.Name).ShouldBe(["show_val_kb", "cmdline_proc_show"]);
    }

    [Fact]
    public void A_function_the_kernel_does_not_have_is_KLP4101()
    {
        const string missing = "no_such_function_in_any_kernel";
        Names.Value.ShouldNotContain(missing);

        var result = KlpTool.BuildOutput.Run("analyze", Release, missing);

        result.ExitCode.ShouldBe(1);
        result.StandardError.ShouldContain($"klp: error KLP4101: '{missing}' has no symbol in vmlinux");
    }
}
