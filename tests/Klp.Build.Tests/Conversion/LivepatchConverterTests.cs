using Klp.Build.Conversion;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Tests.Elf;

namespace Klp.Build.Tests.Conversion;

public sealed class LivepatchConverterTests : IDisposable
{
    private readonly ConversionFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private const string UsesSavedCommandLine = """
        extern char *saved_command_line;
        extern int printk(const char *, ...);
        char *get_cmdline(void) { return saved_command_line; }
        int show(void) { return printk("%s", saved_command_line); }
        """;

    [Fact]
    public void UniqueSymbolMovesToKlpRelaVmlinuxText()
    {
        var obj = _fixture.Compile("unique", UsesSavedCommandLine);
        var exports = ExportedSymbols.Empty;
        exports.Add("printk");
        var result = _fixture.Convert(obj, exports);
        result.Errors.ShouldBeEmpty();
        var output = result.Output!;

        var sections = Binutils.Sections(output);
        var klp = sections.Single(s => s.Name == ".klp.rela.vmlinux..text");
        var text = sections.Single(s => s.Name == ".text");
        var symtab = sections.Single(s => s.Name == ".symtab");
        klp.Type.ShouldBe("RELA");
        klp.Flags.ShouldContain('A');
        klp.Flags.ShouldContain('I');
        klp.Flags.ShouldContain('o'); // OS-specific: SHF_RELA_LIVEPATCH
        klp.Info.ShouldBe((uint)text.Index);
        klp.Link.ShouldBe((uint)symtab.Index);
        klp.EntrySize.ShouldBe(24UL);
        klp.Alignment.ShouldBe(8UL);
        Binutils.Readelf("-t", output).ShouldContain("[0000000000100042]: ALLOC, INFO LINK, OS (0000000000100000)");

        var symbols = Binutils.Symbols(output);
        var livepatch = symbols.Single(s => s.Name == ".klp.sym.vmlinux.saved_command_line,0");
        livepatch.SectionIndex.ShouldBe("OS [0xff20]");
        livepatch.Bind.ShouldBe("GLOBAL");
        symbols.ShouldNotContain(s => s.Name == "saved_command_line");
        symbols.Single(s => s.Name == "printk").SectionIndex.ShouldBe("UND"); // exported: left alone
        // locals before globals: sh_info of .symtab is the first global
        var firstGlobal = symbols.First(s => s.Bind != "LOCAL").Index;
        symtab.Info.ShouldBe((uint)firstGlobal);
        symbols.Skip(firstGlobal).ShouldAllBe(s => s.Bind != "LOCAL");

        var relocations = Binutils.Relocations(output);
        relocations[".klp.rela.vmlinux..text"].Count.ShouldBe(2);
        relocations[".klp.rela.vmlinux..text"].ShouldAllBe(r => r.SymbolName == ".klp.sym.vmlinux.saved_command_line,0");
        relocations[".rela.text"].ShouldContain(r => r.SymbolName == "printk");
        relocations.Where(p => !p.Key.StartsWith(".klp.rela.", StringComparison.Ordinal)).SelectMany(p => p.Value)
            .ShouldNotContain(r => r.SymbolName.Contains("saved_command_line"));
        result.Report.Relocations.Count.ShouldBe(2);
        result.Report.Symbols.ShouldBe([new LivepatchTarget("vmlinux", "saved_command_line", 0)]);
    }

    [Fact]
    public void RelaSectionLeftEmptyIsDropped()
    {
        var obj = _fixture.Compile("onlyhidden", "extern char *saved_command_line;\nchar *get(void) { return saved_command_line; }\n");
        var result = _fixture.Convert(obj);
        result.Errors.ShouldBeEmpty();
        var names = Binutils.Sections(result.Output!).Select(s => s.Name).ToList();
        names.ShouldNotContain(".rela.text");
        names.ShouldContain(".klp.rela.vmlinux..text");
        result.Report.RemovedSections.ShouldContain(".rela.text");
    }

    private const string UsesTypeShow = "extern int type_show(void);\nint call(void) { return type_show(); }\n";

    [Fact]
    public void AmbiguousNameListsEveryCandidate()
    {
        var result = _fixture.Convert(_fixture.Compile("ambiguous", UsesTypeShow));
        result.Report.Succeeded.ShouldBeFalse();
        result.Output.ShouldBeNull();
        var message = result.Single(ConversionCodes.Ambiguous).Message;
        message.ShouldContain("'type_show' occurs 3 times in vmlinux");
        for (var p = 1; p <= 3; p++)
        {
            message.ShouldContain($"vmlinux position {p}");
            message.ShouldContain($"<KernelSymbol Include=\"type_show\" Object=\"vmlinux\" Position=\"{p}\" />");
            message.ShouldContain($"KLP_SYMPOS(type_show, {p}) in KLP_MODULE_RELOC(vmlinux)");
        }
        result.Diagnostics.Items.ShouldNotContain(d => d.Code == ConversionCodes.UnresolvedSymbols);
    }

    [Fact]
    public void AmbiguousNameShowsAddressesWhenTheMapHasThem()
    {
        var map = new Klp.Build.Symbols.KernelSymbolMap([
            new Klp.Build.Symbols.SymbolMapObject("vmlinux", [
                new Klp.Build.Symbols.KernelSymbol("type_show", 0xffffffff81001000, 't', ".text"),
                new Klp.Build.Symbols.KernelSymbol("type_show", 0xffffffff81002000, 't', ".text")]),
        ]);
        var result = _fixture.Convert(_fixture.Compile("addresses", UsesTypeShow), map: map);
        var message = result.Single(ConversionCodes.Ambiguous).Message;
        message.ShouldContain("vmlinux position 1 (0xffffffff81001000 t .text)");
        message.ShouldContain("vmlinux position 2 (0xffffffff81002000 t .text)");
    }

    [Fact]
    public void AnnotationSectionGivesThePosition()
    {
        var source = """
            #include <klp/klp_reloc.h>
            extern int type_show(void);
            KLP_MODULE_RELOC(vmlinux) relocs[] = {
                KLP_SYMPOS(type_show, 2),
            };
            int call(void) { return type_show(); }
            """;
        var result = _fixture.Convert(_fixture.Compile("annotation", source));
        result.Errors.ShouldBeEmpty();
        var output = result.Output!;
        var sections = Binutils.Sections(output).Select(s => s.Name).ToList();
        sections.ShouldNotContain(".klp.module_relocs.vmlinux");
        sections.ShouldNotContain(".rela.klp.module_relocs.vmlinux");
        Binutils.Relocations(output)[".klp.rela.vmlinux..text"].ShouldHaveSingleItem().SymbolName.ShouldBe(".klp.sym.vmlinux.type_show,2");
        var symbols = Binutils.Symbols(output);
        symbols.ShouldNotContain(s => s.Name == "relocs");
        symbols.Count(s => s.Name.StartsWith(".klp.sym.", StringComparison.Ordinal)).ShouldBe(1);
    }

    [Fact]
    public void AsmLabelDeclarationsAreValidatedAndMoved()
    {
        var source = """
            #include <klp/klp_reloc.h>
            extern int type_show(void) KLP_RELOC_SYMBOL_POS(vmlinux, vmlinux, type_show, 3);
            extern int ext4_foo(void) KLP_SYMBOL_POS(ext4, ext4_foo, 0);
            int call(void) { return type_show() + ext4_foo(); }
            """;
        var result = _fixture.Convert(_fixture.Compile("asmlabel", source));
        result.Errors.ShouldBeEmpty();
        var relocations = Binutils.Relocations(result.Output!);
        relocations[".klp.rela.vmlinux..text"].ShouldHaveSingleItem().SymbolName.ShouldBe(".klp.sym.vmlinux.type_show,3");
        relocations[".klp.rela.ext4..text"].ShouldHaveSingleItem().SymbolName.ShouldBe(".klp.sym.ext4.ext4_foo,0");
        Binutils.Symbols(result.Output!).Single(s => s.Name == ".klp.sym.vmlinux.type_show,3").SectionIndex.ShouldBe("OS [0xff20]");
    }

    [Fact]
    public void AsmLabelWithAPositionThatDoesNotExistIsAnError()
    {
        var source = """
            #include <klp/klp_reloc.h>
            extern int type_show(void) KLP_RELOC_SYMBOL_POS(vmlinux, vmlinux, type_show, 4);
            int call(void) { return type_show(); }
            """;
        var result = _fixture.Convert(_fixture.Compile("badlabel", source));
        result.Single(ConversionCodes.InvalidPosition).Message.ShouldContain("positions 1 to 3");
    }

    [Fact]
    public void ProjectMetadataGivesThePosition()
    {
        var options = new ConversionOptions { Positions = [new SymbolPosition("type_show", "vmlinux", 3), new SymbolPosition("not_used", "vmlinux", 1)] };
        var result = _fixture.Convert(_fixture.Compile("metadata", UsesTypeShow), options: options);
        result.Errors.ShouldBeEmpty();
        Binutils.Relocations(result.Output!)[".klp.rela.vmlinux..text"].ShouldHaveSingleItem().SymbolName.ShouldBe(".klp.sym.vmlinux.type_show,3");
        result.Single(ConversionCodes.UnusedPosition).Message.ShouldContain("not_used");
    }

    [Fact]
    public void ConflictingPositionsAreAnError()
    {
        var source = """
            #include <klp/klp_reloc.h>
            extern int type_show(void);
            KLP_MODULE_RELOC(vmlinux) relocs[] = { KLP_SYMPOS(type_show, 2) };
            int call(void) { return type_show(); }
            """;
        var options = new ConversionOptions { Positions = [new SymbolPosition("type_show", "vmlinux", 3)] };
        var result = _fixture.Convert(_fixture.Compile("conflict", source), options: options);
        result.Single(ConversionCodes.ConflictingPositions).Message.ShouldContain("KLP_SYMPOS(type_show, 2)");
    }

    [Fact]
    public void MissingSymbolSuggestsTheCloneThatExists()
    {
        var result = _fixture.Convert(_fixture.Compile("clone", "extern void update_stats(int);\nvoid f(void) { update_stats(1); }\n"));
        var message = result.Single(ConversionCodes.NotFound).Message;
        message.ShouldContain("update_stats.isra.0 (vmlinux)");
        message.ShouldContain("update_stats.cold (vmlinux)");
    }

    [Fact]
    public void MissingSymbolSuggestsNearNames()
    {
        var result = _fixture.Convert(_fixture.Compile("typo", "extern char *saved_comand_line;\nchar *f(void) { return saved_comand_line; }\n"));
        result.Single(ConversionCodes.NotFound).Message.ShouldContain("Did you mean saved_command_line (vmlinux)?");
        result.Diagnostics.Items.ShouldNotContain(d => d.Code == ConversionCodes.UnresolvedSymbols);
    }

    [Fact]
    public void NameInSeveralObjectsAsksForTheObject()
    {
        var result = _fixture.Convert(_fixture.Compile("several", "extern int shared_name;\nint f(void) { return shared_name; }\n"));
        var message = result.Single(ConversionCodes.SeveralObjects).Message;
        message.ShouldContain("vmlinux, ext4");
        message.ShouldContain("<KernelSymbol Include=\"shared_name\" Object=\"vmlinux\" />");
        message.ShouldContain("<KernelSymbol Include=\"shared_name\" Object=\"ext4\" Position=\"2\" />");

        var options = new ConversionOptions { Positions = [new SymbolPosition("shared_name", "ext4", 2)] };
        var fixedUp = _fixture.Convert(_fixture.Compile("several2", "extern int shared_name;\nint f(void) { return shared_name; }\n"), options: options);
        fixedUp.Errors.ShouldBeEmpty();
        Binutils.Relocations(fixedUp.Output!)[".klp.rela.ext4..text"].ShouldHaveSingleItem().SymbolName.ShouldBe(".klp.sym.ext4.shared_name,2");
    }

    [Fact]
    public void ModuleSymbolGoesToModuleSectionWithLateLoadWarning()
    {
        var result = _fixture.Convert(_fixture.Compile("modsym", "extern int ext4_foo(void);\nint f(void) { return ext4_foo(); }\n"));
        result.Errors.ShouldBeEmpty();
        var output = result.Output!;
        var klp = Binutils.Sections(output).Single(s => s.Name == ".klp.rela.ext4..text");
        klp.Flags.ShouldContain('o');
        Binutils.Relocations(output)[".klp.rela.ext4..text"].ShouldHaveSingleItem().SymbolName.ShouldBe(".klp.sym.ext4.ext4_foo,0");
        var warning = result.Single(ConversionCodes.LateModuleSymbols);
        warning.IsError.ShouldBeFalse();
        warning.Message.ShouldContain("'ext4'");
    }

    [Fact]
    public void VmlinuxSymbolInModuleSpecificSectionIsRefused()
    {
        var source = """
            #include <klp/klp_reloc.h>
            extern char *cmdline KLP_RELOC_SYMBOL_POS(ext4, vmlinux, saved_command_line, 0);
            char *f(void) { return cmdline; }
            """;
        var result = _fixture.Convert(_fixture.Compile("modvm", source));
        result.Single(ConversionCodes.InvalidLivepatchSection).Message.ShouldContain("module-specific");
        result.Output.ShouldBeNull();
    }

    [Fact]
    public void ExistingModuleSpecificSectionWithVmlinuxSymbolIsRefused()
    {
        // A module converted elsewhere: .klp.rela.ext4..text holds a vmlinux livepatch symbol.
        var obj = _fixture.Compile("prebuilt", "extern char *saved_command_line;\nchar *f(void) { return saved_command_line; }\n");
        var first = _fixture.Convert(obj);
        var diagnostics = new DiagnosticBag();
        var module = ElfReader.Read(first.Output!, diagnostics)!;
        module.FindSection(".klp.rela.vmlinux..text")!.Name = ".klp.rela.ext4..text";
        var report = LivepatchConverter.Convert(module, ConversionFixture.Map(), ExportedSymbols.Empty, ConversionOptions.Default, diagnostics);
        report.Succeeded.ShouldBeFalse();
        diagnostics.Items.Single(d => d.Code == ConversionCodes.InvalidLivepatchSection).Message.ShouldContain("vmlinux symbol 'saved_command_line'");
    }

    [Fact]
    public void RelocationInAltinstructionsIsRefused()
    {
        var source = """
            extern char *saved_command_line;
            asm(".pushsection .altinstructions,\"a\"\n .long saved_command_line - .\n .popsection");
            """;
        var result = _fixture.Convert(_fixture.Compile("altinstr", source));
        result.Single(ConversionCodes.SiteTableRelocation).Message.ShouldContain(".altinstructions+0x0");
    }

    [Fact]
    public void RelocationInExTableIsRefused()
    {
        var source = "asm(\".pushsection __ex_table,\\\"a\\\"\\n .long saved_command_line - .\\n .popsection\");\n";
        var result = _fixture.Convert(_fixture.Compile("extable", source));
        result.Single(ConversionCodes.SiteTableRelocation).Message.ShouldContain("__ex_table");
    }

    [Fact]
    public void JumpTableKeyOfAModuleIsRefusedAndOfVmlinuxConverted()
    {
        var moduleKey = "asm(\".pushsection __jump_table,\\\"aw\\\"\\n .long 0\\n .long 0\\n .quad ext4_key\\n .popsection\");\n";
        var refused = _fixture.Convert(_fixture.Compile("jumpmod", moduleKey));
        refused.Single(ConversionCodes.LateRelocationInLoadTimeSection).Message.ShouldContain("__jump_table+0x8");

        var vmlinuxKey = "asm(\".pushsection __jump_table,\\\"aw\\\"\\n .long 0\\n .long 0\\n .quad jiffies_key\\n .popsection\");\n";
        var converted = _fixture.Convert(_fixture.Compile("jumpvm", vmlinuxKey));
        converted.Errors.ShouldBeEmpty();
        Binutils.Relocations(converted.Output!)[".klp.rela.vmlinux.__jump_table"].ShouldHaveSingleItem().SymbolName.ShouldBe(".klp.sym.vmlinux.jiffies_key,0");
    }

    [Fact]
    public void ModuleSymbolInInitCodeIsRefused()
    {
        var source = "extern int ext4_foo(void);\n__attribute__((section(\".init.text\"))) int init(void) { return ext4_foo(); }\n";
        var result = _fixture.Convert(_fixture.Compile("initmod", source));
        result.Single(ConversionCodes.LateRelocationInLoadTimeSection).Message.ShouldContain("frees .init.text");
    }

    [Fact]
    public void ExportedSymbolsAreLeftAlone()
    {
        var obj = _fixture.Compile("exported", "extern int printk(const char *, ...);\nint f(void) { return printk(\"x\"); }\n");
        var exports = ExportedSymbols.Empty;
        exports.Add("printk");
        var before = File.ReadAllBytes(obj);
        var result = _fixture.Convert(obj, exports);
        result.Errors.ShouldBeEmpty();
        result.Report.Relocations.ShouldBeEmpty();
        File.ReadAllBytes(result.Output!).ShouldBe(before);
    }

    [Fact]
    public void ConversionIsDeterministicAndIdempotent()
    {
        var obj = _fixture.Compile("determinism", UsesSavedCommandLine + "extern int ext4_foo(void);\nint g(void) { return ext4_foo(); }\n");
        var exports = ExportedSymbols.Empty;
        exports.Add("printk");
        byte[] Once(byte[] input)
        {
            var diagnostics = new DiagnosticBag();
            var module = ElfReader.Read(input, "determinism.o", diagnostics)!;
            LivepatchConverter.Convert(module, ConversionFixture.Map(), exports, ConversionOptions.Default, diagnostics).Succeeded.ShouldBeTrue();
            return ElfWriter.ToBytes(module, diagnostics)!;
        }
        var input = File.ReadAllBytes(obj);
        var first = Once(input);
        var second = Once(input);
        second.ShouldBe(first);
        Once(first).ShouldBe(first); // an already converted module stays as it is
    }

    [Fact]
    public void ExportedSymbolsParseModuleSymvers()
    {
        var text = "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n0x9abcdef0\tusb_foo\tdrivers/usb/core/usbcore\tEXPORT_SYMBOL_GPL\tUSB_NS\n";
        var diagnostics = new DiagnosticBag();
        var exports = ExportedSymbols.ParseSymvers(new StringReader(text), "Module.symvers", diagnostics)!;
        exports.Count.ShouldBe(2);
        exports.Find("usb_foo").ShouldBe(new ExportedSymbol("usb_foo", "drivers/usb/core/usbcore", "EXPORT_SYMBOL_GPL", "USB_NS", 0x9abcdef0));
        exports.Find("printk")!.Namespace.ShouldBeNull();

        ExportedSymbols.ParseSymvers(new StringReader("garbage line\n"), "Module.symvers", diagnostics).ShouldBeNull();
        diagnostics.Items.Single().Code.ShouldBe(ConversionCodes.SymversInvalid);
    }

    [Theory]
    [InlineData(".klp.sym.vmlinux.foo.isra.0,3", "vmlinux", "foo.isra.0", 3, "vmlinux")]
    [InlineData(".klp.sym.rela.ext4.ext4.ext4_foo,0", "ext4", "ext4_foo", 0, "ext4")]
    [InlineData(".klp.sym.rela.ext4.xfs.xfs_bar,2", "xfs", "xfs_bar", 2, "ext4")]
    public void LivepatchSymbolNamesParseLikeTheKernel(string text, string obj, string name, int position, string sectionObject)
    {
        LivepatchNames.TryParseSymbol(text, true, out var target, out var section, out _).ShouldBeTrue();
        target.ShouldBe(new LivepatchTarget(obj, name, position));
        section.ShouldBe(sectionObject);
    }

    [Theory]
    [InlineData(".klp.sym.vmlinux.foo")]
    [InlineData(".klp.sym.vmlinux.foo,x")]
    [InlineData(".klp.sym.vmlinux,1")]
    [InlineData(".klp.sym..foo,1")]
    public void MalformedLivepatchSymbolNamesAreRejected(string text) =>
        LivepatchNames.TryParseSymbol(text, true, out _, out _, out _).ShouldBeFalse();
}
