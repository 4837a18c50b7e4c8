using Klp.Build.Conversion;
using Klp.Build.KlpConvert;
using Klp.Build.Processes;
using Klp.Build.Tests.Elf;

namespace Klp.Build.Tests.Conversion;

public sealed class KlpConvertCommandTests : IDisposable
{
    private readonly ConversionFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private string MapFile()
    {
        var path = Path.Combine(_fixture.Tools.Directory, "symbols.klp");
        File.WriteAllText(path, ConversionFixture.MapText.Replace("\r", "") + "\n");
        return path;
    }

    private string Symvers()
    {
        var path = Path.Combine(_fixture.Tools.Directory, "Module.symvers");
        File.WriteAllText(path, "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n");
        return path;
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = KlpConvertCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void ConvertsAndWritesTheOutput()
    {
        var input = _fixture.Compile("cli", "extern char *saved_command_line;\nextern int printk(const char *, ...);\nint f(void) { return printk(saved_command_line); }\n");
        var output = Path.Combine(_fixture.Tools.Directory, "cli.klp.ko");
        var (code, stdout, stderr) = Run("--symvers", Symvers(), "--verbose", MapFile(), input, output);
        code.ShouldBe(0, stderr);
        stderr.ShouldBeEmpty();
        stdout.ShouldContain("saved_command_line -> .klp.sym.vmlinux.saved_command_line,0");
        Binutils.Relocations(output)[".klp.rela.vmlinux..text"].ShouldHaveSingleItem();
        Directory.GetFiles(_fixture.Tools.Directory, "*.tmp").ShouldBeEmpty();
    }

    [Fact]
    public void SymposOptionDisambiguates()
    {
        var input = _fixture.Compile("clipos", "extern int type_show(void);\nint f(void) { return type_show(); }\n");
        var output = Path.Combine(_fixture.Tools.Directory, "clipos.klp.ko");
        var (code, _, stderr) = Run("--sympos=vmlinux.type_show,2", MapFile(), input, output);
        code.ShouldBe(0, stderr);
        Binutils.Relocations(output)[".klp.rela.vmlinux..text"].ShouldHaveSingleItem().SymbolName.ShouldBe(".klp.sym.vmlinux.type_show,2");
    }

    [Fact]
    public void ErrorsExitWithOneAndLeaveNoOutput()
    {
        var input = _fixture.Compile("clierr", "extern int type_show(void);\nint f(void) { return type_show(); }\n");
        var output = Path.Combine(_fixture.Tools.Directory, "clierr.klp.ko");
        File.WriteAllText(output, "stale output of an earlier run");
        var (code, _, stderr) = Run(MapFile(), input, output);
        code.ShouldBe(1);
        stderr.ShouldContain($"{input}: error KLP3020: 'type_show' occurs 3 times in vmlinux");
        stderr.ShouldNotContain("KLP3030", customMessage: "the ambiguity is the explanation; it is not reported again");
        File.Exists(output).ShouldBeFalse();
        Directory.GetFiles(_fixture.Tools.Directory, "*.tmp").ShouldBeEmpty();
    }

    [Theory]
    [InlineData("only-one-argument")]
    [InlineData("--bogus", "a", "b", "c")]
    [InlineData("--sympos", "no-comma", "a", "b", "c")]
    public void BadArgumentsAreReported(params string[] args)
    {
        var (code, _, stderr) = Run(args);
        code.ShouldBe(1);
        stderr.ShouldContain("klp-convert: error KLP3039: ");
        stderr.ShouldContain(KlpConvertCommand.Usage);
    }

    [Fact]
    public void MissingFilesAreReported()
    {
        var output = Path.Combine(_fixture.Tools.Directory, "none.ko");
        var (code, _, stderr) = Run(MapFile(), Path.Combine(_fixture.Tools.Directory, "missing.ko"), output);
        code.ShouldBe(1);
        stderr.ShouldContain("error KLP3039: input module");
        var (code2, _, stderr2) = Run(Path.Combine(_fixture.Tools.Directory, "missing.map"), "x.ko", output);
        code2.ShouldBe(1);
        stderr2.ShouldContain("error KLP3010: ");
        File.Exists(output).ShouldBeFalse();
    }

    [Fact]
    public void RunsAsAProcess()
    {
        var input = _fixture.Compile("process", "extern int shared_name;\nint f(void) { return shared_name; }\n");
        var output = Path.Combine(_fixture.Tools.Directory, "process.klp.ko");
        var tool = Path.Combine(AppContext.BaseDirectory, "klp-convert.dll");
        var failed = ProcessRunner.Run("dotnet", [tool, MapFile(), input, output], timeout: TimeSpan.FromMinutes(1));
        failed.ExitCode.ShouldBe(1);
        failed.StandardError.ShouldContain($"{input}: error {ConversionCodes.SeveralObjects}: ");
        File.Exists(output).ShouldBeFalse();

        var ok = ProcessRunner.Run("dotnet", [tool, "--sympos", "vmlinux.shared_name,0", MapFile(), input, output], timeout: TimeSpan.FromMinutes(1));
        ok.ExitCode.ShouldBe(0, ok.StandardError);
        Binutils.Symbols(output).ShouldContain(s => s.Name == ".klp.sym.vmlinux.shared_name,0" && s.SectionIndex == "OS [0xff20]");
    }
}
