using System.Diagnostics;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

[Collection(SdkCollection.Name)]
public sealed class IncrementalBuildTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    private static TestProject Cmdline(string name) => new(name, $"""
          <PropertyGroup><KernelRelease>{Release}</KernelRelease></PropertyGroup>
          <ItemGroup><PatchedFunction Include="cmdline_proc_show" Replacement="livepatch_cmdline_proc_show" /></ItemGroup>
        """, ("livepatch.c", """
        #include <linux/seq_file.h>
        int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
        {
        	seq_printf(m, "%s\n", "patched");
        	return 0;
        }
        """));

    [Fact]
    public void A_noop_rebuild_runs_no_kbuild_and_an_edit_rebuilds()
    {
        using var project = Cmdline("incremental");
        project.Build().Succeeded.ShouldBeTrue();
        var module = Path.Combine(project.OutputDirectory(Release), "incremental.ko");
        var firstWrite = File.GetLastWriteTimeUtc(module);

        var noop = project.Build("-v:n");
        noop.Succeeded.ShouldBeTrue();
        noop.Output.ShouldContain("Skipping target \"KlpCompile\"");
        noop.Output.ShouldNotContain("make -C");
        File.GetLastWriteTimeUtc(module).ShouldBe(firstWrite);

        project.Write("livepatch.c", File.ReadAllText(Path.Combine(project.Directory, "livepatch.c")).Replace("\"patched\"", "\"patched again\""));
        var edited = project.Build("-v:n");
        edited.Output.ShouldContain("make -C");
        edited.Output.ShouldContain("CC [M]");
        File.GetLastWriteTimeUtc(module).ShouldBeGreaterThan(firstWrite);

        project.Write("extra.c", "int klp_extra_helper(void) { return 1; }\n");
        project.Build("-v:n").Output.ShouldContain("extra.o", Case.Sensitive, "adding a source reruns kbuild");
    }

    [Fact]
    public void Clean_removes_what_the_build_wrote()
    {
        using var project = Cmdline("clean");
        project.Build().Succeeded.ShouldBeTrue();
        Directory.Exists(project.OutputDirectory(Release)).ShouldBeTrue();

        DotnetBuild.Run(project.ProjectPath, [], null, verb: "clean").Succeeded.ShouldBeTrue();

        Directory.Exists(project.OutputDirectory(Release)).ShouldBeFalse();
        Directory.Exists(Path.Combine(project.Directory, "obj", "Debug", Release)).ShouldBeFalse();
        Directory.GetFiles(project.Directory, "*.ko", SearchOption.AllDirectories).ShouldBeEmpty();
        Directory.GetFiles(project.Directory, "*.o", SearchOption.AllDirectories).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_cancelled_build_leaves_no_module_in_bin()
    {
        using var project = Cmdline("cancelled");
        SdkPackage.EnsurePacked();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = project.Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "build", project.ProjectPath, "-nodeReuse:false", "--disable-build-servers", "-v:n" }) start.ArgumentList.Add(argument);
        start.Environment["NUGET_PACKAGES"] = SdkPackage.PackagesFolder;
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var build = Process.Start(start)!;
        var sawKbuild = new TaskCompletionSource();
        build.OutputDataReceived += (_, e) => { if (e.Data?.Contains("CC [M]") == true || e.Data?.Contains("make -C") == true) sawKbuild.TrySetResult(); };
        build.BeginOutputReadLine();
        build.BeginErrorReadLine();
        await sawKbuild.Task.WaitAsync(TimeSpan.FromMinutes(5));

        Process.Start("kill", ["-INT", build.Id.ToString()])!.WaitForExit();
        build.WaitForExit(60_000).ShouldBeTrue();

        var bin = Path.Combine(project.Directory, "bin");
        (Directory.Exists(bin) ? Directory.GetFiles(bin, "*", SearchOption.AllDirectories) : []).ShouldBeEmpty();
    }
}
