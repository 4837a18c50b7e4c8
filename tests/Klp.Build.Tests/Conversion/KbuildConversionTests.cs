using Klp.Build.Conversion;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Tests.Elf;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Conversion;

/// <summary>A real module linked by kbuild against Debian's 6.1 headers (modpost only warns: KBUILD_MODPOST_WARN=1).</summary>
public sealed class KbuildConversionTests
{
    private const string Source = """
        #include <linux/module.h>
        #include <linux/init.h>
        #include <linux/printk.h>

        extern char *saved_command_line;

        noinline int klpconv_show(void)
        {
        	return pr_info("cmdline: %s\n", saved_command_line);
        }

        static int __init klpconv_init(void)
        {
        	pr_info("init: %s\n", saved_command_line);
        	return klpconv_show() < 0;
        }

        static void __exit klpconv_exit(void)
        {
        }

        module_init(klpconv_init);
        module_exit(klpconv_exit);
        MODULE_LICENSE("GPL");
        MODULE_INFO(livepatch, "Y");
        """;

    [Fact]
    public void RealModuleConvertsAndKeepsOnlyExportedSymbolsUndefined()
    {
        var release = TestKernels.NewestRelease("6.1");
        var ko = TestKbuild.BuildModule(release, "klpconv", Source, "KBUILD_MODPOST_WARN=1");
        var symversPath = Path.Combine(TestKbuild.HeadersRoot(release), "usr", "src", $"linux-headers-{release}", "Module.symvers");
        var diagnostics = new DiagnosticBag();
        var exports = ExportedSymbols.ReadSymvers(symversPath, diagnostics)!;
        exports.Count.ShouldBeGreaterThan(10_000);
        var map = ConversionFixture.Map();

        var module = ElfReader.Read(ko, diagnostics)!;
        var report = LivepatchConverter.Convert(module, map, exports, ConversionOptions.Default, diagnostics);
        report.Succeeded.ShouldBeTrue(string.Join("\n", diagnostics.Items));
        var output = Path.ChangeExtension(ko, ".klp.ko");
        ElfWriter.WriteFile(module, output, diagnostics).ShouldBeTrue();

        var relocations = Binutils.Relocations(output);
        // klpconv_show is called only from init code: GCC puts it in .text.unlikely
        relocations.Where(p => p.Key.StartsWith(".klp.rela.vmlinux..text", StringComparison.Ordinal)).SelectMany(p => p.Value)
            .ShouldContain(r => r.SymbolName == ".klp.sym.vmlinux.saved_command_line,0");
        relocations[".klp.rela.vmlinux..init.text"].ShouldContain(r => r.SymbolName == ".klp.sym.vmlinux.saved_command_line,0");
        relocations.Where(p => !p.Key.StartsWith(".klp.rela.", StringComparison.Ordinal)).SelectMany(p => p.Value)
            .ShouldNotContain(r => r.SymbolName.Contains("saved_command_line"));
        var sections = Binutils.Sections(output);
        foreach (var klp in sections.Where(s => s.Name.StartsWith(".klp.rela.", StringComparison.Ordinal)))
        {
            klp.Flags.ShouldContain('o');
            sections.Single(s => s.Index == klp.Info).Name.ShouldBe(klp.Name[".klp.rela.vmlinux.".Length..]);
            sections.Single(s => s.Index == klp.Link).Name.ShouldBe(".symtab");
        }

        var symbols = Binutils.Symbols(output);
        symbols.Single(s => s.Name == ".klp.sym.vmlinux.saved_command_line,0").SectionIndex.ShouldBe("OS [0xff20]");
        var undefined = symbols.Where(s => s.SectionIndex == "UND" && s.Name.Length > 0).Select(s => s.Name).ToList();
        undefined.ShouldNotBeEmpty();
        undefined.ShouldAllBe(name => exports.Contains(name));
        // modinfo, this_module and the rest are untouched: the module still reads back.
        ElfModInfo.Read(ElfReader.Read(output, diagnostics)!).ShouldNotBeNull();
    }
}
