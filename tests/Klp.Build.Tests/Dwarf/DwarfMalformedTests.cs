using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Tests.Elf;

namespace Klp.Build.Tests.Dwarf;

/// <summary>Damaged DWARF gives KLP40xx diagnostics and a partial index, never an exception.</summary>
public sealed class DwarfMalformedTests : IDisposable
{
    private readonly Binutils _tools = new();
    private readonly Dictionary<string, byte[]> _good;

    public DwarfMalformedTests()
    {
        var sections = DwarfSections.Load(DwarfTestSources.Compile(_tools, "5"), new DiagnosticBag()).ShouldNotBeNull();
        _good = new Dictionary<string, byte[]>
        {
            [".debug_info"] = sections.Info.ToArray(), [".debug_abbrev"] = sections.Abbrev.ToArray(), [".debug_str"] = sections.Str.ToArray(),
            [".debug_line_str"] = sections.LineStr.ToArray(), [".debug_line"] = sections.Line.ToArray(), [".debug_rnglists"] = sections.Rnglists.ToArray(),
        };
    }

    public void Dispose() => _tools.Dispose();

    private (DwarfIndex Index, DiagnosticBag Diagnostics) Index(Action<Dictionary<string, byte[]>> damage)
    {
        var copy = _good.ToDictionary(p => p.Key, p => (byte[])p.Value.Clone());
        damage(copy);
        var diagnostics = new DiagnosticBag();
        var index = DwarfIndex.Build(DwarfSections.FromBytes(copy, "damaged.o"), diagnostics);
        return (index, diagnostics);
    }

    [Fact]
    public void TheUndamagedSectionsIndexCleanly()
    {
        var (index, diagnostics) = Index(_ => { });
        diagnostics.Items.ShouldBeEmpty();
        index.FindFunctions("show").ShouldHaveSingleItem();
    }

    [Fact]
    public void TruncatedDebugInfoIsReportedAtEveryLength()
    {
        var length = _good[".debug_info"].Length;
        for (var cut = 1; cut < length; cut += 7)
        {
            var (index, diagnostics) = Index(s => s[".debug_info"] = s[".debug_info"][..cut]);
            diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.MalformedUnit, $"cut at {cut}");
            index.FunctionCount.ShouldBe(0);
        }
    }

    [Fact]
    public void AnUndefinedAbbreviationCodeIsReported()
    {
        // DWARF 5, 32-bit: the root DIE's abbreviation code follows the 12-byte unit header.
        var (index, diagnostics) = Index(s => s[".debug_info"][12] = 0x7f);
        diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.BadAbbreviation && d.Message.Contains("abbreviation code 127"));
        index.FunctionCount.ShouldBe(0);
    }

    [Fact]
    public void AnAbbreviationTableOutsideDebugAbbrevIsReported()
    {
        var (_, diagnostics) = Index(s => BitConverter.GetBytes(0x00ffffffu).CopyTo(s[".debug_info"], 8));
        diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.OffsetOutOfRange && d.Message.Contains(".debug_abbrev"));
    }

    [Fact]
    public void AnUnknownVersionAndAReservedLengthAreReported()
    {
        Index(s => s[".debug_info"][4] = 9).Diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.MalformedUnit && d.Message.Contains("version 9"));
        Index(s => BitConverter.GetBytes(0xfffffff3u).CopyTo(s[".debug_info"], 0)).Diagnostics.Items
            .ShouldContain(d => d.Code == DwarfCodes.MalformedUnit && d.Message.Contains("reserved length"));
    }

    [Fact]
    public void StringOffsetsOutsideDebugStrAreReported()
    {
        var (index, diagnostics) = Index(s => s[".debug_str"] = s[".debug_str"][..1]);
        diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.OffsetOutOfRange && d.Message.Contains(".debug_str"));
        index.FunctionCount.ShouldBe(0);
    }

    [Fact]
    public void TruncatedAbbreviationsLineTableAndRangeListsAreReported()
    {
        Index(s => s[".debug_abbrev"] = s[".debug_abbrev"][..10]).Diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.BadAbbreviation);
        var line = Index(s => s[".debug_line"] = s[".debug_line"][..20]);
        line.Diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.MalformedLineTable);
        line.Index.FindFunctions("show").ShouldHaveSingleItem().DeclFile.ShouldBeNull("file names are unknown, the rest is there");
        Index(s => s[".debug_rnglists"] = []).Diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.OffsetOutOfRange);
    }

    [Fact]
    public void RandomDamageNeverThrowsAndReportsABoundedNumberOfProblems()
    {
        var random = new Random(4001);
        var names = _good.Keys.ToArray();
        for (var round = 0; round < 400; round++)
        {
            var (_, diagnostics) = Index(s =>
            {
                for (var flips = random.Next(1, 8); flips > 0; flips--)
                {
                    var bytes = s[names[random.Next(names.Length)]];
                    if (bytes.Length > 0) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }
            });
            diagnostics.Items.Count.ShouldBeLessThanOrEqualTo(51);
        }
    }

    [Fact]
    public void AFileWithoutDebugInformationIsReported()
    {
        var o = _tools.CompileC("nodebug", "int f(int x) { return x; }", "-O2");
        var diagnostics = new DiagnosticBag();
        DwarfIndex.Build(o, diagnostics).ShouldBeNull();
        diagnostics.Items.ShouldHaveSingleItem().Code.ShouldBe(DwarfCodes.NoDebugInfo);
        DwarfIndex.Build(Path.Combine(_tools.Directory, "missing.o"), diagnostics).ShouldBeNull();
        diagnostics.Items.ShouldContain(d => d.Code == DwarfCodes.UnreadableFile);
    }
}
