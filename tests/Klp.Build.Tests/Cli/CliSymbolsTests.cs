using System.Text.RegularExpressions;
using Klp.Build.Processes;
using Klp.Build.Tests.Sdk;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Cli;

/// <summary>`klp symbols` writes the real 6.1 target's map in klp-convert format.</summary>
[Collection(SdkCollection.Name)]
public sealed class CliSymbolsTests : IDisposable
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");
    private readonly string _directory = Directory.CreateTempSubdirectory("klp-cli-symbols-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Symbols_writes_a_map_whose_vmlinux_section_has_what_nm_finds()
    {
        // A static function of vmlinux, read with nm from the -dbg package: not exported, so only the map can resolve it.
        var nm = ProcessRunner.Run("nm", [TestKernels.DebugVmlinux(Release)]).StandardOutput;
        var names = Regex.Matches(nm, @"^[0-9a-f]+ t (\w+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        var symbol = names.GroupBy(n => n).Where(g => g.Count() == 1).Select(g => g.Key).First(n => n.EndsWith("_show", StringComparison.Ordinal));
        var output = Path.Combine(_directory, "symbols.klp");

        var result = KlpTool.BuildOutput.Run("symbols", Release, "-o", output);

        result.ExitCode.ShouldBe(0, result.StandardError);
        result.StandardError.ShouldContain($"Symbol map of {Release}:");
        var lines = File.ReadAllLines(output);
        lines[0].ShouldBe("klp-convert-symbol-data.0.1");
        lines[1].ShouldBe("*vmlinux");
        var vmlinux = lines.Skip(2).TakeWhile(l => !l.StartsWith('*')).ToHashSet();
        vmlinux.ShouldContain(symbol);
        lines.ShouldContain("*ext4", "the map covers the modules of linux-image too");
        Directory.GetFiles(_directory, "*.tmp").ShouldBeEmpty();
    }
}
