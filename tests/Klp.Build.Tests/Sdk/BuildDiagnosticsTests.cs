using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>What goes wrong in a project becomes an MSBuild diagnostic on the user's own file and line.</summary>
[Collection(SdkCollection.Name)]
public sealed class BuildDiagnosticsTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    private static string Project(string functions = """<PatchedFunction Include="cmdline_proc_show" Replacement="livepatch_cmdline_proc_show" />""",
        string extra = "") => $"""
          <PropertyGroup><KernelRelease>{Release}</KernelRelease>{extra}</PropertyGroup>
          <ItemGroup>{functions}</ItemGroup>
        """;

    private const string GoodSource = """
        #include <linux/seq_file.h>
        int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
        {
        	seq_printf(m, "%s\n", "patched");
        	return 0;
        }
        """;

    [Fact]
    public void A_C_error_is_reported_at_the_users_file_and_line_and_leaves_no_module()
    {
        using var project = new TestProject("c-error", Project(), ("src/livepatch.c", """
            #include <linux/seq_file.h>
            int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
            {
            	seq_printf(m, "%s\n", "patched");
            	return undeclared_variable;
            }
            """));

        var result = project.Build();

        result.Succeeded.ShouldBeFalse();
        var error = result.Errors.First(e => e.Code == "KLP2001");
        error.File.ShouldBe(Path.Combine(project.Directory, "src", "livepatch.c"));
        error.Line.ShouldBe(5);
        error.Column.ShouldBeGreaterThan(0);
        error.Message.ShouldContain("undeclared_variable");
        result.Errors.ShouldNotContain(e => e.Code == "KLP2005", "the compile error, not 'make exited', fails the build");
        Directory.Exists(project.OutputDirectory(Release)).ShouldBeFalse();
    }

    [Fact]
    public void A_header_of_the_project_is_found_and_its_errors_point_at_it()
    {
        using var project = new TestProject("header-error", Project(),
            ("livepatch.c", "#include \"patch.h\"\n" + GoodSource),
            ("patch.h", "#define MARKER \"patched\"\nint broken(void) { return nothing; }\n"));

        var result = project.Build();

        var error = result.Errors.First(e => e.Code == "KLP2001");
        error.File.ShouldBe(Path.Combine(project.Directory, "patch.h"));
        error.Line.ShouldBe(2);
    }

    [Fact]
    public void A_replacement_missing_from_the_sources_is_KLP2004_not_a_link_error()
    {
        using var project = new TestProject("missing-replacement",
            Project("""<PatchedFunction Include="cmdline_proc_show" Replacement="livepatch_does_not_exist" />"""),
            ("livepatch.c", GoodSource));

        var result = project.Build();

        result.Succeeded.ShouldBeFalse();
        var error = result.Errors.ShouldHaveSingleItem(result.ToString());
        error.Code.ShouldBe("KLP2004");
        error.File.ShouldBe(project.ProjectPath);
        error.Message.ShouldContain("livepatch_does_not_exist");
        error.Message.ShouldContain("cmdline_proc_show");
    }

    [Fact]
    public void A_static_replacement_is_KLP2004_too()
    {
        using var project = new TestProject("static-replacement", Project(),
            ("livepatch.c", GoodSource.Replace("int livepatch_cmdline_proc_show(", "static int livepatch_cmdline_proc_show(")));

        var result = project.Build();

        result.Errors.ShouldContain(e => e.Code == "KLP2004" && e.Message.Contains("static"), result.ToString());
    }

    [Fact]
    public void Project_mistakes_are_reported_before_kbuild_runs()
    {
        using var noFunctions = new TestProject("no-functions", Project(functions: ""), ("livepatch.c", GoodSource));
        noFunctions.Build().Errors.ShouldContain(e => e.Code == "KLP2011");

        using var noReplacement = new TestProject("no-replacement", Project("""<PatchedFunction Include="cmdline_proc_show" />"""), ("livepatch.c", GoodSource));
        noReplacement.Build().Errors.ShouldContain(e => e.Code == "KLP2008");

        using var noSources = new TestProject("no-sources", Project());
        noSources.Build().Errors.ShouldContain(e => e.Code == "KLP2007");
    }

    [Fact]
    public void A_kernel_without_livepatch_support_fails_early_with_KLP1010()
    {
        var ppc = TestKernels.NewestRelease("6.1", "powerpc64le");
        using var project = new TestProject("ppc", Project().Replace(Release, ppc), ("livepatch.c", GoodSource));

        var result = project.Build();

        result.Errors.ShouldContain(e => e.Code == "KLP1010" && e.Message.Contains("CONFIG_LIVEPATCH"), result.ToString());
        result.Output.ShouldNotContain("CC [M]");
    }

    [Fact]
    public void An_unknown_release_is_KLP1001()
    {
        using var project = new TestProject("unknown", Project().Replace(Release, "6.1.0-999-amd64"), ("livepatch.c", GoodSource));
        project.Build().Errors.ShouldContain(e => e.Code == "KLP1001");
    }
}
