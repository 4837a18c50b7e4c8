using System.Text.RegularExpressions;
using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Tests.Elf;

namespace Klp.Build.Tests.Dwarf;

/// <summary>The index of small gcc -O2 objects (DWARF 4 and 5, relocatable: .rela.debug_* applied), checked against readelf and nm.</summary>
public sealed class DwarfGccObjectTests : IDisposable
{
    private readonly Binutils _tools = new();

    public void Dispose() => _tools.Dispose();

    private (string Path, DwarfIndex Index) Build(string version)
    {
        var o = DwarfTestSources.Compile(_tools, version);
        var diagnostics = new DiagnosticBag();
        var index = DwarfIndex.Build(o, diagnostics).ShouldNotBeNull();
        diagnostics.Items.ShouldBeEmpty();
        return (o, index);
    }

    [Theory]
    [InlineData("4")]
    [InlineData("5")]
    public void FunctionsHaveNameFileLinePrototypeAndLinkage(string version)
    {
        var (o, index) = Build(version);
        var show = index.FindFunctions("show").ShouldHaveSingleItem();
        show.Prototype.ShouldBe("int show(struct seq_file *m, void *v)");
        show.ParameterTypes.ShouldBe("struct seq_file *, void *");
        show.IsExternal.ShouldBeTrue();
        show.HasCode.ShouldBeTrue();
        show.DeclFile.ShouldBe(Path.ChangeExtension(o, ".c"), "gcc names the file as it was given: here an absolute path");
        show.DeclLine.ShouldBe(18);
        show.CompileUnit.Name.ShouldEndWith($"clones{version}.c");
        show.ConcreteParameters.ShouldNotBeNull().Select(p => p.Name).ShouldBe(["m", "v"]);

        index.FindFunctions("vsum").ShouldHaveSingleItem().Prototype.ShouldBe("int vsum(int n, ...)");
        index.FindFunctions("caller").ShouldHaveSingleItem().Prototype.ShouldBe("int caller(void)");
        var ext = index.FindFunctions("ext").ShouldHaveSingleItem();
        ext.IsDeclaration.ShouldBeTrue();
        ext.HasCode.ShouldBeFalse();
        ext.ParameterTypes.ShouldBe("const char *, ...");
        index.FindFunctions("pick").ShouldHaveSingleItem().ReturnType.ShouldBe("int (*)(struct seq_file *, void *)");
        index.FindFunctions("names").ShouldHaveSingleItem().Prototype.ShouldBe("const char *const *names(unsigned char *flags, volatile long int *counter)");
        index.Producers.ShouldHaveSingleItem().ShouldContain($"-gdwarf-{version}");
    }

    [Theory]
    [InlineData("4")]
    [InlineData("5")]
    public void InlineFunctionIsAbstractWithInlinedCopiesInItsCallers(string version)
    {
        var (o, index) = Build(version);
        var helper = index.FindFunctions("helper").ShouldHaveSingleItem();
        helper.Inline.ShouldBe(DwarfInline.DeclaredInlined);
        helper.HasCode.ShouldBeFalse("inlined everywhere: no out-of-line copy");
        helper.IsStatic.ShouldBeTrue();
        helper.Prototype.ShouldBe("int helper(int x)");

        var copies = index.FindInlinedCopies("helper");
        copies.Select(c => c.ContainingFunction).Order().ShouldBe(["show", "vsum"]);
        var inShow = copies.Single(c => c.ContainingFunction == "show");
        inShow.CallFile.ShouldBe(Path.ChangeExtension(o, ".c"));
        inShow.CallLine.ShouldBe(21);
        inShow.ContainingFunctionLowAddress.ShouldBe(index.FindFunctions("show").Single().LowAddress);
        inShow.CalleeDieOffset.ShouldBe(helper.DieOffset);
    }

    [Theory]
    [InlineData("4")]
    [InlineData("5")]
    public void ClonesKeepTheAbstractPrototypeAndShowTheirConcreteParameters(string version)
    {
        var (o, index) = Build(version);
        var symbols = Binutils.Symbols(o).Where(s => s.Type == "FUNC").ToDictionary(s => s.Name, s => s.Value);
        var scaleClone = symbols.Keys.Single(n => n.StartsWith("scale.", StringComparison.Ordinal));
        scaleClone.ShouldContain(".isra"); // gcc 12: scale.constprop.0.isra.0
        var konstClone = symbols.Keys.Single(n => n.StartsWith("konst.", StringComparison.Ordinal));
        konstClone.ShouldContain(".constprop");

        var scale = index.FindFunctions("scale");
        scale.Count.ShouldBe(2);
        var abstractScale = scale.Single(f => !f.HasCode);
        abstractScale.Inline.ShouldBe(DwarfInline.Inlined);
        var concrete = scale.Single(f => f.HasCode);
        concrete.IsConcreteInstance.ShouldBeTrue();
        concrete.AbstractOriginOffset.ShouldBe(abstractScale.DieOffset);
        concrete.Prototype.ShouldBe("int scale(struct big *b, int factor, int unused)");
        concrete.LowAddress.ShouldBe(symbols[scaleClone]);
        index.FindFunctionsContaining(symbols[scaleClone] + 1).ShouldHaveSingleItem().Id.ShouldBe(concrete.Id);
        // readelf: unused and factor carry DW_AT_const_value (7 and 0 folded in), only b is still passed.
        var parameters = concrete.ConcreteParameters.ShouldNotBeNull();
        parameters.Select(p => (p.Name, p.Type, p.HasLocation, p.IsConstant)).OrderBy(p => p.Name).ShouldBe(
        [
            ("b", "struct big *", true, false), ("factor", "int", false, true), ("unused", "int", false, true),
        ]);
        concrete.ConcretePrototype.ShouldBe("int scale(struct big *b)");

        var konst = index.FindFunctions("konst").Single(f => f.HasCode);
        konst.LowAddress.ShouldBe(symbols[konstClone]);
        konst.Prototype.ShouldBe("int konst(int mode, const char *s)");
        konst.ConcretePrototype.ShouldBe("int konst(const char *s)");
        konst.ConcreteParameters!.Single(p => p.Name == "mode").IsConstant.ShouldBeTrue();
    }

    [Theory]
    [InlineData("4")]
    [InlineData("5")]
    public void CountsAndNamesAgreeWithReadelf(string version)
    {
        var (o, index) = Build(version);
        var dump = Binutils.Readelf("--debug-dump=info", o);
        index.FunctionCount.ShouldBe(Regex.Matches(dump, @"\(DW_TAG_subprogram\)").Count);
        index.InlinedCopyCount.ShouldBe(Regex.Matches(dump, @"\(DW_TAG_inlined_subroutine\)").Count);
        // Every DW_AT_name readelf shows on a subprogram DIE is a function the index can find.
        var names = Regex.Matches(dump, @"\(DW_TAG_subprogram\)\n(?:\s+<[0-9a-f]+>\s+DW_AT_(?!name)\w+\s*:.*\n)*\s+<[0-9a-f]+>\s+DW_AT_name\s*:\s*(.*)")
            .Select(m => m.Groups[1].Value.Trim()).Select(v => v.Contains("): ") ? v[(v.LastIndexOf("): ", StringComparison.Ordinal) + 3)..] : v.StartsWith('(') ? v[(v.IndexOf(')') + 1)..].Trim() : v)
            .Distinct().ToList();
        names.ShouldContain("show");
        foreach (var name in names) index.FindFunctions(name).ShouldNotBeEmpty(name);
        index.CompileUnits.ShouldHaveSingleItem().Version.ShouldBe(int.Parse(version));
    }
}
