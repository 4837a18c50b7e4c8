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
    };

    [Theory]
    [MemberData(nameof(SamplesAndSeries))]
    public void The_sample_builds_and_is_proven_live_in_the_target_kernel(string sample, string series)
    {
        var release = TestKernels.NewestRelease(series);
        using var project = TestProject.FromSample(sample, release);

        var result = project.Build("-t:Test");

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Warnings.ShouldBeEmpty(result.ToString());
        var module = Directory.GetFiles(project.OutputDirectory(release), "*.ko").ShouldHaveSingleItem();
        result.Output.ShouldContain($"-> {module} (proven live in {release})");
        result.Output.ShouldContain("result: passed");
        File.Exists(Path.Combine(project.Directory, "obj", "Debug", release, "vm", "console.log")).ShouldBeTrue();
    }
}
