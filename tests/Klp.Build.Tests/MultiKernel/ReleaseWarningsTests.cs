using Klp.Build.Diagnostics;

namespace Klp.Build.Tests.MultiKernel;

public sealed class ReleaseWarningsTests
{
    private static readonly string[] Releases = ["6.1.0-56-amd64", "6.12.117+deb12-amd64"];

    private static Diagnostic Warning(string code, string message, int line = 7) => new(code, DiagnosticSeverity.Warning, message, "/p/x.klpproj", line);

    [Fact]
    public void A_warning_of_every_release_is_kept_once_as_it_is_and_one_of_some_releases_names_them()
    {
        var both = Warning("KLP4102", "'f' is also inlined into 1 function(s) of vmlinux (g)");
        var only61 = Warning("KLP4103", "GCC made 1 clone(s) of 'h'", 8);

        var merged = ReleaseWarnings.Merge(Releases, [(Releases[0], [both, only61]), (Releases[1], [both])]);

        merged.ShouldBe([both, only61 with { Message = "GCC made 1 clone(s) of 'h' (only in 6.1.0-56-amd64)" }]);
    }

    [Fact]
    public void The_same_message_on_another_line_is_another_warning()
    {
        var merged = ReleaseWarnings.Merge(Releases, [(Releases[0], [Warning("KLP4102", "m", 7)]), (Releases[1], [Warning("KLP4102", "m", 9)])]);

        merged.Select(w => (w.Line, w.Message)).ShouldBe([(7, "m (only in 6.1.0-56-amd64)"), (9, "m (only in 6.12.117+deb12-amd64)")]);
    }

    [Fact]
    public void Warnings_survive_the_file_and_a_broken_file_says_why()
    {
        var directory = Directory.CreateTempSubdirectory("klp-release-warnings-").FullName;
        try
        {
            var path = Path.Combine(directory, "obj", "klp-safety-warnings.json");
            var warnings = new[] { Warning("KLP4103", "clones \"quoted\" [x]"), Warning("KLP4110", "registers", 0) with { File = null } };
            ReleaseWarnings.Write(path, warnings);

            ReleaseWarnings.Read(path, out var problem).ShouldBe(warnings);
            problem.ShouldBeNull();
            File.ReadAllText(path).ShouldContain("\"severity\": \"Warning\"");

            File.WriteAllText(path, "{ not json");
            ReleaseWarnings.Read(path, out problem).ShouldBeNull();
            problem.ShouldNotBeNullOrEmpty();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
