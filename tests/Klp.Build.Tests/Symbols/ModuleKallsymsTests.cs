using Klp.Build.Symbols;
using Klp.Build.Tests.Elf;

namespace Klp.Build.Tests.Symbols;

/// <summary>The module filter on a small module-shaped object built with the host toolchain.</summary>
public sealed class ModuleKallsymsTests : IDisposable
{
    private readonly Binutils _tools = new();

    public void Dispose() => _tools.Dispose();

    private string BuildModule()
    {
        var a = _tools.CompileC("a", """
            static int __attribute__((used, section(".init.text"))) twice(void) { return 1; }
            static int __attribute__((used, section(".exit.text"))) leaving(void) { return 3; }
            int first(void) { return 0; }
            static int __attribute__((used)) counter;
            static const char __attribute__((used, section(".modinfo"))) name[] = "name=my_mod";
            """, "-O1");
        var b = _tools.CompileC("b", """
            static int __attribute__((used)) twice(void) { return 2; }
            static int __attribute__((used)) local_twice;
            int second(void) { return twice(); }
            """, "-O1");
        var c = _tools.CompileC("c", "static int __attribute__((used)) local_twice = 5;", "-O1");
        var module = Path.Combine(_tools.Directory, "my-mod.ko");
        Binutils.Run("ld", "binutils", "-r", a, b, c, "-o", module);
        return module;
    }

    [Fact]
    public void CoreSymbolsKeepSymtabOrderAndSkipInitModinfoAndFileSymbols()
    {
        var module = BuildModule();
        var obj = SymbolMapGenerator.ReadModule(module, KallsymsOptions.Default, out var error).ShouldNotBeNull(error);
        obj.Name.ShouldBe("my_mod");
        var names = obj.Symbols.Select(s => s.Name).ToList();
        names.ShouldNotContain("name");      // .modinfo is not kept
        names.ShouldNotContain("a.c");       // file symbols are absolute
        names.ShouldContain("leaving");      // .exit stays with CONFIG_MODULE_UNLOAD
        obj.Occurrences("twice").ShouldHaveSingleItem().Symbol.Section.ShouldBe(".text");
        obj.Occurrences("local_twice").Select(o => o.Sympos).ShouldBe([1, 2]);
        obj.Occurrences("local_twice").Select(o => o.Symbol.Kind).ShouldAllBe(k => k == 'b' || k == 'd');
        obj.Occurrences("first").ShouldHaveSingleItem().Symbol.Kind.ShouldBe('T');

        // readelf's .symtab order is ours.
        var symtab = Binutils.Run("readelf", "binutils", "-sW", module).Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(p => p.Length == 8 && p[0].EndsWith(':'))
            .Select(p => p[7]).ToList();
        var cursor = -1;
        foreach (var name in names)
        {
            cursor = symtab.IndexOf(name, cursor + 1);
            cursor.ShouldBeGreaterThanOrEqualTo(0, $"{name} out of .symtab order");
        }
    }

    [Fact]
    public void ANameRepeatedInInitCodeIsUnstable()
    {
        var obj = SymbolMapGenerator.ReadModule(BuildModule(), KallsymsOptions.Default, out var error).ShouldNotBeNull(error);
        obj.UnstableNames.ShouldBe(["twice"]);
    }

    [Fact]
    public void WithoutKallsymsAllOnlyCodeCountsAndWithoutUnloadExitCodeGoes()
    {
        var obj = SymbolMapGenerator.ReadModule(BuildModule(), new KallsymsOptions(AllSymbols: false, ModuleUnload: false), out var error).ShouldNotBeNull(error);
        obj.Symbols.ShouldAllBe(s => s.Section == ".text");
        obj.Contains("leaving").ShouldBeFalse();
        obj.Contains("local_twice").ShouldBeFalse();
    }
}
