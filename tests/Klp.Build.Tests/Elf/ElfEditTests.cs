using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Processes;
using Xunit.Abstractions;

namespace Klp.Build.Tests.Elf;

/// <summary>The edits the livepatch converter makes, checked with readelf/objdump/ld as independent readers.</summary>
public sealed class ElfEditTests(ITestOutputHelper output)
{
    private const string PatchSource = """
        extern char *saved_command_line;
        extern int _printk(const char *, ...);
        static int calls;
        int show_cmdline(void) { calls++; return _printk("%s %d\n", saved_command_line, calls); }
        """;

    private const ElfSectionFlags KlpRelaFlags = ElfSectionFlags.Alloc | ElfSectionFlags.InfoLink | ElfSectionFlags.RelaLivepatch;

    [Theory]
    [InlineData("-m64")]
    [InlineData("-m32")]
    public void AddingKlpRelaSectionAndKlpSymbolGivesWhatReadelfExpects(string bits)
    {
        using var tools = new Binutils();
        var input = tools.CompileC("patch", PatchSource, bits, "-O2");
        var diagnostics = new DiagnosticBag();
        var file = ElfReader.Read(input, diagnostics).ShouldNotBeNull();
        var symtab = file.SymbolTable.ShouldNotBeNull();
        var text = file.FindSection(".text").ShouldNotBeNull();
        var original = symtab.Find("saved_command_line").ShouldNotBeNull();
        var relaText = file.Sections.OfType<ElfRelocationTable>().Single(r => r.Target == text);

        // The converter's edit: a .klp.sym symbol, a .klp.rela section, relocations moved, the old symbol dropped,
        // plus a new local symbol so every global shifts (relocations must be renumbered).
        var klpSymbol = symtab.Add(new ElfSymbol
        {
            Name = ".klp.sym.vmlinux.saved_command_line,0", Bind = ElfSymbolBind.Global, Type = ElfSymbolType.Object,
            SpecialSectionIndex = ElfSectionIndex.Livepatch,
        });
        symtab.Add(new ElfSymbol { Name = "klp_marker", Bind = ElfSymbolBind.Local, Type = ElfSymbolType.Function, Section = text, Value = 0 });
        var klpRela = file.AddSection(new ElfRelocationTable(withAddends: relaText.HasAddends)
        {
            Name = (relaText.HasAddends ? ".klp.rela" : ".klp.rel") + ".vmlinux..text",
            Flags = KlpRelaFlags, Alignment = file.Is64 ? 8u : 4u, SymbolTable = symtab, Target = text,
        });
        var moved = relaText.Entries.Where(r => r.Symbol == original).ToList();
        moved.ShouldNotBeEmpty();
        foreach (var entry in moved)
        {
            relaText.Entries.Remove(entry);
            klpRela.Entries.Add(new ElfRelocation { Offset = entry.Offset, Type = entry.Type, Addend = entry.Addend, Symbol = klpSymbol });
        }
        symtab.Remove(original).ShouldBeTrue();

        var path = Path.Combine(tools.Directory, "patched.o");
        ElfWriter.WriteFile(file, path, diagnostics).ShouldBeTrue(string.Join("; ", diagnostics.Items));
        Directory.GetFiles(tools.Directory, "*.tmp").ShouldBeEmpty();

        var sections = Binutils.Sections(path);
        var section = sections.Single(s => s.Name == klpRela.Name);
        section.Type.ShouldBe(relaText.HasAddends ? "RELA" : "REL");
        section.Flags.ShouldBe("AIo");
        section.Link.ShouldBe((uint)sections.Single(s => s.Name == ".symtab").Index);
        section.Info.ShouldBe((uint)sections.Single(s => s.Name == ".text").Index);
        var detailed = Binutils.Readelf("-S", "-t", path);
        detailed.ShouldContain("00100042]: ALLOC, INFO LINK, OS (");

        var symbols = Binutils.Symbols(path);
        var klp = symbols.Single(s => s.Name == klpSymbol.Name);
        output.WriteLine($"readelf shows SHN_LIVEPATCH as '{klp.SectionIndex}'");
        klp.SectionIndex.ShouldBe("OS [0xff20]");
        klp.Bind.ShouldBe("GLOBAL");
        symbols.ShouldNotContain(s => s.Name == "saved_command_line");
        var firstGlobal = symbols.First(s => s.Bind != "LOCAL").Index;
        symbols.Skip(firstGlobal).ShouldAllBe(s => s.Bind != "LOCAL");
        sections.Single(s => s.Name == ".symtab").Info.ShouldBe((uint)firstGlobal);
        symbols.Single(s => s.Name == "klp_marker").Index.ShouldBeLessThan(firstGlobal);

        var relocations = Binutils.Relocations(path);
        relocations[klpRela.Name].Select(r => r.SymbolName).ShouldAllBe(n => n == klpSymbol.Name);
        relocations[klpRela.Name].Count.ShouldBe(moved.Count);
        relocations[relaText.Name].ShouldContain(r => r.SymbolName == "_printk");
        relocations[relaText.Name].ShouldNotContain(r => r.SymbolName.Contains("saved_command_line"));

        // Read back: what we read is what readelf reads.
        var back = ElfReader.Read(path, diagnostics).ShouldNotBeNull();
        ElfReadelfComparisonTests.CompareSections(back, sections);
        ElfReadelfComparisonTests.CompareSymbols(back, symbols);
        ElfReadelfComparisonTests.CompareRelocations(back, relocations);
        back.FindSection(klpRela.Name).ShouldBeOfType<ElfRelocationTable>().Flags.ShouldBe(KlpRelaFlags);

        var objdump = ProcessRunner.Run("objdump", ["-d", "-r", path]);
        objdump.Succeeded.ShouldBeTrue(objdump.StandardError);
        // BFD applies one relocation section per section and says so about .klp.rela (as for any livepatch module).
        objdump.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ShouldAllBe(line => line.Contains("secondary relocation section '" + klpRela.Name + "'"));
        objdump.StandardOutput.ShouldContain("_printk");
    }

    [Theory]
    [InlineData("-m64")]
    [InlineData("-m32")]
    public void RemovingASectionTakesItsRelocationsAndSymbolsAlong(string bits)
    {
        using var tools = new Binutils();
        var input = tools.CompileC("patch", PatchSource, bits, "-O2", "-g");
        var diagnostics = new DiagnosticBag();
        var file = ElfReader.Read(input, diagnostics).ShouldNotBeNull();
        var ehFrame = file.FindSection(".eh_frame").ShouldNotBeNull();
        var before = file.Sections.Count;
        var removedRelocations = file.Sections.OfType<ElfRelocationTable>().Single(r => r.Target == ehFrame);
        file.RemoveSection(ehFrame);
        file.Sections.Count.ShouldBe(before - 2);
        removedRelocations.File.ShouldBeNull();

        var path = Path.Combine(tools.Directory, "removed.o");
        ElfWriter.WriteFile(file, path, diagnostics).ShouldBeTrue(string.Join("; ", diagnostics.Items));

        var readelf = ProcessRunner.Run("readelf", ["-W", "-a", path]);
        readelf.Succeeded.ShouldBeTrue();
        readelf.StandardError.ShouldBeEmpty();
        var sections = Binutils.Sections(path);
        sections.ShouldNotContain(s => s.Name.Contains("eh_frame"));
        var back = ElfReader.Read(path, diagnostics).ShouldNotBeNull();
        ElfReadelfComparisonTests.CompareSections(back, sections);
        ElfReadelfComparisonTests.CompareSymbols(back, Binutils.Symbols(path));
        ElfReadelfComparisonTests.CompareRelocations(back, Binutils.Relocations(path));

        var objdump = ProcessRunner.Run("objdump", ["-d", "-r", path]);
        objdump.Succeeded.ShouldBeTrue(objdump.StandardError);
        objdump.StandardError.ShouldBeEmpty();
        objdump.StandardOutput.ShouldContain("<show_cmdline>:");
        var ld = ProcessRunner.Run("ld", [bits == "-m32" ? "-melf_i386" : "-melf_x86_64", "-r", "-o", Path.Combine(tools.Directory, "linked.o"), path]);
        ld.Succeeded.ShouldBeTrue(ld.StandardError);
    }

    [Fact]
    public void RemovingASectionWhoseSymbolsAreStillUsedFailsVerificationWithADiagnostic()
    {
        using var tools = new Binutils();
        var input = tools.CompileC("patch", PatchSource, "-O2");
        var diagnostics = new DiagnosticBag();
        var file = ElfReader.Read(input, diagnostics).ShouldNotBeNull();
        file.RemoveSection(file.FindSection(".text").ShouldNotBeNull());
        // .eh_frame's relocations point at the (removed) .text section symbol.
        ElfWriter.ToBytes(file, diagnostics).ShouldBeNull();
        diagnostics.Items.ShouldNotBeEmpty();
        diagnostics.Items.ShouldAllBe(d => d.Code == ElfWriter.InvalidCode);
        diagnostics.Items[0].Message.ShouldContain(".rela.eh_frame");
    }

    [Fact]
    public void RenamedSymbolsAndSectionsGetNewStringsAndStayReadable()
    {
        using var tools = new Binutils();
        var input = tools.CompileC("patch", PatchSource, "-O2");
        var diagnostics = new DiagnosticBag();
        var file = ElfReader.Read(input, diagnostics).ShouldNotBeNull();
        file.SymbolTable!.Find("saved_command_line")!.Name = ".klp.sym.vmlinux.saved_command_line,0";
        file.FindSection(".text")!.Name = ".text.renamed";
        var path = Path.Combine(tools.Directory, "renamed.o");
        ElfWriter.WriteFile(file, path, diagnostics).ShouldBeTrue();
        Binutils.Symbols(path).ShouldContain(s => s.Name == ".klp.sym.vmlinux.saved_command_line,0");
        Binutils.Sections(path).ShouldContain(s => s.Name == ".text.renamed");
        Binutils.Relocations(path)[".rela.text"].ShouldContain(r => r.SymbolName == ".klp.sym.vmlinux.saved_command_line,0");
    }
}
