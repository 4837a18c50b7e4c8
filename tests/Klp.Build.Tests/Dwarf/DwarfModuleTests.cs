using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Elf;
using Klp.Build.Tests.Elf;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Dwarf;

/// <summary>The patch module side: a kbuild-built .ko is relocatable, so its DWARF only reads right with .rela.debug_* applied.</summary>
public sealed class DwarfModuleTests
{
    private static readonly Lazy<string> Module = new(() => TestKbuild.BuildModule(TestKernels.NewestRelease("6.1"), "klp_dwarf_cmdline", TestLivepatches.Cmdline));

    [Fact]
    public void TheReplacementFunctionsPrototypeIsReadFromTheModule()
    {
        var diagnostics = new DiagnosticBag();
        var index = DwarfIndex.Build(Module.Value, diagnostics).ShouldNotBeNull();
        diagnostics.Items.ShouldBeEmpty();
        var replacement = index.FindFunctions("livepatch_cmdline_proc_show").Where(f => f.HasCode).ToList().ShouldHaveSingleItem();
        replacement.Prototype.ShouldBe("int livepatch_cmdline_proc_show(struct seq_file *m, void *v)");
        replacement.ParameterTypes.ShouldBe("struct seq_file *, void *");
        replacement.IsStatic.ShouldBeTrue();
        replacement.DeclFile.ShouldNotBeNull().ShouldEndWith("klp_dwarf_cmdline.c");
        replacement.DeclLine.ShouldBe(6);
        index.FindFunctions("klp_enable_patch").ShouldContain(f => f.IsDeclaration && f.ParameterTypes == "struct klp_patch *");
        index.Producers.ShouldContain(p => p.StartsWith("GNU C11 12.", StringComparison.Ordinal));
        // The symbol table and the DWARF agree on where the function is (both section-relative in a .ko).
        var symbol = new ElfSymbolLookup(Module.Value).Value("livepatch_cmdline_proc_show");
        replacement.LowAddress.ShouldBe(symbol);
    }

    [Fact]
    public void WithoutItsRelocationsTheModulesDwarfNamesNothingRight()
    {
        Binutils.Readelf("-r", Module.Value).ShouldContain("Relocation section '.rela.debug_info'");
        var elf = ElfReader.Read(Module.Value, new DiagnosticBag()).ShouldNotBeNull();
        var raw = DwarfSections.SectionNames
            .Select(name => elf.FindSection(name)).OfType<ElfRawSection>()
            .ToDictionary(s => s.Name, s => s.Data.ToArray());
        var diagnostics = new DiagnosticBag();
        var unrelocated = DwarfIndex.Build(DwarfSections.FromBytes(raw, "unrelocated"), diagnostics);
        unrelocated.FindFunctions("livepatch_cmdline_proc_show").ShouldBeEmpty("DW_FORM_strp values are 0 until relocated against .debug_str");
    }

    private sealed class ElfSymbolLookup(string path)
    {
        private readonly ElfFile _elf = ElfReader.Read(path, new DiagnosticBag()).ShouldNotBeNull();
        public ulong Value(string name) => _elf.SymbolTable.ShouldNotBeNull().Symbols.Single(s => s.Name == name).Value;
    }
}
