using Klp.Build.Diagnostics;
using Klp.Build.Processes;
using Klp.Build.Symbols;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Symbols;

/// <summary>.ko.xz (as kbuild compresses them), .ko.zst and .ko.gz read like the .ko they came from.</summary>
public sealed class CompressedModuleTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _vmlinux;
    private readonly IReadOnlyList<string> _originals;

    public CompressedModuleTests()
    {
        var release = TestKernels.NewestRelease("6.1");
        _vmlinux = TestKernels.DebugVmlinux(release);
        _originals = SymbolMapInputs.FindModules(Path.Combine(TestKernels.ImageRoot(release), "lib", "modules", release, "kernel")).Take(40).ToList();
    }

    public void Dispose() => _temp.Dispose();

    private string Compress(string tool, string extension, params string[] flags)
    {
        var directory = Path.Combine(_temp.Path, extension.Trim('.'));
        Directory.CreateDirectory(directory);
        foreach (var module in _originals)
        {
            var target = Path.Combine(directory, Path.GetFileName(module) + extension);
            var run = ProcessRunner.Run("sh", ["-c", $"{tool} {string.Join(' ', flags)} -c \"$1\" > \"$2\"", "sh", module, target]);
            run.Succeeded.ShouldBeTrue(run.StandardError);
        }
        return directory;
    }

    private KernelSymbolMap Generate(string directory, DiagnosticBag? diagnostics = null) =>
        SymbolMapGenerator.Generate(SymbolMapInputs.Create(_vmlinux, directory), diagnostics ?? new DiagnosticBag()).ShouldNotBeNull();

    private void ShouldMatchOriginals(KernelSymbolMap map)
    {
        var originals = _originals.Select(m => SymbolMapGenerator.ReadModule(m, KallsymsOptions.Default, out _)!).OrderBy(o => o.Name, StringComparer.Ordinal).ToList();
        map.Objects.Skip(1).Select(o => o.Name).ShouldBe(originals.Select(o => o.Name));
        foreach (var (ours, original) in map.Objects.Skip(1).Zip(originals)) ours.Symbols.ShouldBe(original.Symbols);
    }

    [Fact]
    public void XzModulesAreReadInBatchesLikeTheirKo()
    {
        var directory = Compress("xz", ".xz", "--check=crc32", "--lzma2=dict=1MiB");
        foreach (var file in Directory.GetFiles(directory))
            ModuleFile.XzUncompressedSize(file).ShouldBe(new FileInfo(_originals.Single(o => Path.GetFileName(o) + ".xz" == Path.GetFileName(file))).Length);
        ShouldMatchOriginals(Generate(directory));
    }

    [Fact]
    public void ADamagedXzModuleIsReportedAndTheOthersStillRead()
    {
        var directory = Compress("xz", ".xz", "--check=crc32");
        var victim = Directory.GetFiles(directory).Order(StringComparer.Ordinal).ElementAt(3);
        var bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(victim, bytes);

        var diagnostics = new DiagnosticBag();
        var map = Generate(directory, diagnostics);
        diagnostics.Items.ShouldHaveSingleItem().Code.ShouldBe(SymbolMapGenerator.UnreadableCode);
        diagnostics.Items[0].Message.ShouldContain(Path.GetFileName(victim));
        map.Objects.Count.ShouldBe(_originals.Count); // vmlinux + all but one
    }

    [Fact]
    public void ZstdAndGzipModulesReadLikeTheirKo()
    {
        ShouldMatchOriginals(Generate(Compress("zstd", ".zst", "-q")));
        ShouldMatchOriginals(Generate(Compress("gzip", ".gz")));
    }
}
