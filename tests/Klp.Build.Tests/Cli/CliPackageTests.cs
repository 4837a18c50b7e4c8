using Klp.Build.Tests.Sdk;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Cli;

/// <summary>The packed tool installs with `dotnet tool install` and answers with the SDK's codes.</summary>
[Collection(SdkCollection.Name)]
public sealed class CliPackageTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("klp-cli-package-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void The_installed_tool_reports_an_unknown_release_with_KLP1001()
    {
        var klp = KlpTool.Installed(_directory);
        var series = TestKernels.NewestRelease("6.1");
        var unknown = System.Text.RegularExpressions.Regex.Replace(series, @"^6\.1\.0-\d+-", "6.1.0-9999-");

        var version = klp.Run("--version");
        version.StandardOutput.ShouldStartWith(RepositoryLayout.SdkVersion);

        var result = klp.Run("symbols", unknown, "-o", Path.Combine(_directory, "symbols.klp"));
        result.ExitCode.ShouldBe(1, result.StandardError);
        result.StandardError.ShouldContain($"klp: error KLP1001: unknown kernel release '{unknown}'");
        result.StandardOutput.ShouldBeEmpty();
        File.Exists(Path.Combine(_directory, "symbols.klp")).ShouldBeFalse();
    }

    [Fact]
    public void A_bad_command_line_is_a_coded_error_with_exit_code_2()
    {
        var result = KlpTool.BuildOutput.Run("analyze", "6.1.0-1-amd64", "--bogus");
        result.ExitCode.ShouldBe(2);
        result.StandardError.ShouldContain("klp: error KLP7001:");
        result.StandardError.ShouldContain("--bogus");
        result.StandardError.ShouldContain("Run 'klp analyze --help' for usage.");
    }
}
