using Klp.Build.Conversion;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Symbols;
using Klp.Build.Tests.Elf;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Conversion;

/// <summary>Small objects compiled by gcc, a hand-made symbol map, conversion, and readelf on the result.</summary>
internal sealed class ConversionFixture : IDisposable
{
    /// <summary>vmlinux in kallsyms order: type_show three times, clones of update_stats; a module with its own symbols.</summary>
    public const string MapText = """
        klp-convert-symbol-data.0.1
        *vmlinux
        saved_command_line
        type_show
        update_stats.isra.0
        type_show
        update_stats.cold
        jiffies_key
        type_show
        printk
        shared_name
        *ext4
        ext4_foo
        ext4_key
        shared_name
        shared_name
        """;

    public Binutils Tools { get; } = new();

    public static string IncludeDirectory => Path.Combine(RepositoryLayout.Root, "Klp.Build.Sdk", "include");

    public static KernelSymbolMap Map(string text = MapText) =>
        KernelSymbolMap.Read(new StringReader(text.Replace("\r", "")), "test.map", new DiagnosticBag())!;

    public string Compile(string name, string source) =>
        Tools.CompileC(name, source, "-O2", "-fno-pic", "-fno-asynchronous-unwind-tables", "-I" + IncludeDirectory);

    public sealed record Result(ConversionReport Report, DiagnosticBag Diagnostics, string? Output)
    {
        public IEnumerable<Diagnostic> Errors => Diagnostics.Items.Where(d => d.IsError);
        public Diagnostic Single(string code) => Diagnostics.Items.Single(d => d.Code == code);
    }

    /// <summary>Converts an object file; writes the result next to it when the conversion succeeded.</summary>
    public Result Convert(string objectPath, ExportedSymbols? exports = null, ConversionOptions? options = null, KernelSymbolMap? map = null)
    {
        var diagnostics = new DiagnosticBag();
        var module = ElfReader.Read(objectPath, diagnostics) ?? throw new InvalidOperationException(string.Join("\n", diagnostics.Items));
        var report = LivepatchConverter.Convert(module, map ?? Map(), exports ?? ExportedSymbols.Empty, options ?? ConversionOptions.Default, diagnostics);
        if (!report.Succeeded) return new Result(report, diagnostics, null);
        var output = Path.ChangeExtension(objectPath, ".klp.o");
        ElfWriter.WriteFile(module, output, diagnostics).ShouldBeTrue(string.Join("\n", diagnostics.Items));
        return new Result(report, diagnostics, output);
    }

    public void Dispose() => Tools.Dispose();
}
