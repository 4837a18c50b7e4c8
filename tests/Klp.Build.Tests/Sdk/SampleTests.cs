using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>Each sample, built by the real dotnet CLI against a real Debian kernel and proven live in it.</summary>
[Collection(SdkCollection.Name)]
public sealed class SampleTests
{
    public static TheoryData<string, string> SamplesAndSeries => new()
    {
        { "cmdline", "6.1" }, { "cmdline", "6.12" },
        { "binfmt-status", "6.1" }, { "binfmt-status", "6.12" },
        { "cmdline-saved", "6.1" }, { "sympos-call", "6.1" }, { "binfmt-enabled", "6.1" },
    };

    /// <summary>Module symbols resolve only when their module loads: the build says so, as a warning.</summary>
    private static readonly string[] ExpectedWarnings = ["KLP3029"];

    [Theory]
    [MemberData(nameof(SamplesAndSeries))]
    public void The_sample_builds_and_is_proven_live_in_the_target_kernel(string sample, string series)
    {
        var release = TestKernels.NewestRelease(series);
        using var project = TestProject.FromSample(sample, release);

        var result = project.Build("-t:Test");

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Warnings.Where(w => !ExpectedWarnings.Contains(w.Code)).ShouldBeEmpty(result.ToString());
        var module = Directory.GetFiles(project.OutputDirectory(release), "*.ko").ShouldHaveSingleItem();
        result.Output.ShouldContain($"-> {module} (proven live in {release})");
        result.Output.ShouldContain("result: passed");
        File.Exists(Path.Combine(project.Directory, "obj", "Debug", release, "vm", "console.log")).ShouldBeTrue();
    }

    [Fact]
    public void A_module_symbol_resolves_when_the_module_loads_after_the_patch()
    {
        var release = TestKernels.NewestRelease("6.1");
        using var project = TestProject.FromSample("binfmt-enabled", release);

        var result = project.Build("-t:Test", "-p:VmLoadPatchFirst=true");

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Output.ShouldContain("result: passed");
        result.Output.ShouldNotContain("unpatched: enabled");
        result.Warnings.ShouldContain(w => w.Code == "KLP3029" && w.Message.Contains("binfmt_misc"));
    }
}
