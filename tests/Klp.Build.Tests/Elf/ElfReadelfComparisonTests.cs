using Klp.Build.Diagnostics;
using Klp.Build.Elf;

namespace Klp.Build.Tests.Elf;

/// <summary>What the reader sees must be what binutils' readelf sees, for every class, byte order and machine we care about.</summary>
public sealed class ElfReadelfComparisonTests
{
    internal const string CSource = """
        extern int ext_counter;
        extern void ext_call(int);
        int exported_value = 7;
        static int local_data[4] = { 1, 2, 3, 4 };
        static int zeroed[16];
        static int __attribute__((noinline)) helper(int x) { return x * 3 + ext_counter + zeroed[x & 15]; }
        int patched(int y) { ext_call(y); return helper(y) + local_data[y & 3]; }
        const char *name(void) { return "hello"; }
        """;

    private const string Ppc64Source = """
                .text
                .globl f
                .type f,@function
        f:
                bl g
                nop
                addis 3,2,d@toc@ha
                addi 3,3,d@toc@l
                blr
                .data
                .globl d
        d:      .quad g
                .quad f+8
        """;

    private const string Ppc32Source = """
                .text
                .globl f
        f:
                bl g
                lis 3,d@ha
                addi 3,3,d@l
                blr
                .data
                .globl d
        d:      .long g
                .long f+8
        """;

    private const string S390Source = """
                .text
                .globl f
                .type f,@function
        f:
                brasl %r14,g@PLT
                larl %r1,d
                br %r14
                .data
        d:      .quad g
                .quad f+16
        """;

    private const string AArch64Source = """
                .text
                .globl f
                .type f,%function
        f:
                bl g
                adrp x0, d
                add x0, x0, :lo12:d
                b h
                .data
        d:      .quad g
                .quad f+4
        """;

    public static TheoryData<string> Variants => ["x86_64", "i386", "ppc64be", "ppc32be", "s390x", "aarch64"];

    internal static string Build(Binutils tools, string variant) => variant switch
    {
        "x86_64" => tools.CompileC("x86_64", CSource, "-O2", "-g", "-ffunction-sections", "-fdata-sections"),
        "i386" => tools.CompileC("i386", CSource, "-m32", "-O2", "-g", "-ffunction-sections"),
        "ppc64be" => tools.Assemble("powerpc64-linux-gnu-as", "binutils-powerpc64-linux-gnu", variant, Ppc64Source, "-a64", "-mbig"),
        "ppc32be" => tools.Assemble("powerpc64-linux-gnu-as", "binutils-powerpc64-linux-gnu", variant, Ppc32Source, "-a32", "-mbig"),
        "s390x" => tools.Assemble("s390x-linux-gnu-as", "binutils-s390x-linux-gnu", variant, S390Source),
        "aarch64" => tools.Assemble("aarch64-linux-gnu-as", "binutils-aarch64-linux-gnu", variant, AArch64Source),
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void ReaderAgreesWithReadelfAndRoundTrips(string variant)
    {
        using var tools = new Binutils();
        var path = Build(tools, variant);
        var diagnostics = new DiagnosticBag();
        var file = ElfReader.Read(path, diagnostics).ShouldNotBeNull(string.Join("; ", diagnostics.Items));
        var expected = variant switch
        {
            "x86_64" => (ElfClass.Elf64, ElfData.LittleEndian, ElfMachine.X86_64),
            "i386" => (ElfClass.Elf32, ElfData.LittleEndian, ElfMachine.I386),
            "ppc64be" => (ElfClass.Elf64, ElfData.BigEndian, ElfMachine.Ppc64),
            "ppc32be" => (ElfClass.Elf32, ElfData.BigEndian, ElfMachine.Ppc),
            "s390x" => (ElfClass.Elf64, ElfData.BigEndian, ElfMachine.S390),
            _ => (ElfClass.Elf64, ElfData.LittleEndian, ElfMachine.AArch64),
        };
        (file.Class, file.Data, file.Machine).ShouldBe(expected);
        file.Type.ShouldBe(ElfFileType.Relocatable);

        CompareSections(file, Binutils.Sections(path));
        CompareSymbols(file, Binutils.Symbols(path));
        CompareRelocations(file, Binutils.Relocations(path));

        ElfWriter.ToBytes(file, diagnostics).ShouldBe(File.ReadAllBytes(path));
    }

    internal static void CompareSections(ElfFile file, List<Binutils.Section> sections)
    {
        file.Sections.Count.ShouldBe(sections.Count);
        foreach (var r in sections)
        {
            var s = file.Sections[r.Index - 1];
            s.Index.ShouldBe(r.Index);
            s.Name.ShouldBe(r.Name);
            TypeName(s.Type).ShouldBe(r.Type, $"type of {s}", StringCompareShould.IgnoreCase);
            s.Address.ShouldBe(r.Address);
            s.Size.ShouldBe(r.Size, $"size of {s}");
            s.EntrySize.ShouldBe(r.EntrySize, $"entry size of {s}");
            ((uint)(s.Link?.Index ?? 0)).ShouldBe(r.Link, $"link of {s}");
            s.ComputeInfo().ShouldBe(r.Info, $"info of {s}");
            s.Alignment.ShouldBe(r.Alignment);
            FlagLetters(s.Flags).ShouldBe(r.Flags, $"flags of {s}");
        }
    }

    internal static void CompareSymbols(ElfFile file, List<Binutils.Symbol> symbols)
    {
        var table = file.SymbolTable.ShouldNotBeNull();
        table.Symbols.Count.ShouldBe(symbols.Count);
        foreach (var r in symbols)
        {
            var s = table.Symbols[r.Index];
            s.Index.ShouldBe(r.Index);
            s.Value.ShouldBe(r.Value, $"value of {s}");
            s.Size.ShouldBe(r.Size, $"size of {s}");
            s.Type.ToString().ShouldBe(r.Type switch { "FUNC" => "Function", "OBJECT" => "Object", "NOTYPE" => "NoType", _ => r.Type }, $"type of {s}", StringCompareShould.IgnoreCase);
            s.Bind.ToString().ShouldBe(r.Bind, $"bind of {s}", StringCompareShould.IgnoreCase);
            s.Visibility.ToString().ShouldBe(r.Visibility, $"visibility of {s}", StringCompareShould.IgnoreCase);
            var ndx = s.Section is not null ? s.Section.Index.ToString() : s.SpecialSectionIndex switch
            {
                ElfSectionIndex.Undefined => "UND",
                ElfSectionIndex.Absolute => "ABS",
                ElfSectionIndex.Common => "COM",
                var other => $"OS [0x{other:x}]",
            };
            ndx.ShouldBe(r.SectionIndex, $"section index of {s}");
            if (s.Type != ElfSymbolType.Section) s.Name.ShouldBe(r.Name);
            else s.Section.ShouldNotBeNull().Name.ShouldBe(r.Name);
        }
    }

    internal static void CompareRelocations(ElfFile file, Dictionary<string, List<Binutils.Relocation>> relocations)
    {
        var tables = file.Sections.OfType<ElfRelocationTable>().ToList();
        tables.Select(t => t.Name).Order().ShouldBe(relocations.Keys.Order());
        tables.ShouldNotBeEmpty();
        foreach (var table in tables)
        {
            var expected = relocations[table.Name];
            table.Entries.Count.ShouldBe(expected.Count, $"entries of {table}");
            for (var i = 0; i < expected.Count; i++)
            {
                var mine = table.Entries[i];
                var theirs = expected[i];
                var symbol = (ulong)(mine.Symbol?.Index ?? 0);
                var info = file.Is64 ? symbol << 32 | mine.Type : symbol << 8 | mine.Type;
                mine.Offset.ShouldBe(theirs.Offset);
                info.ShouldBe(theirs.Info, $"info of relocation {i} of {table}");
                ElfRelocationTypes.GetName(file.Machine, mine.Type).ShouldBe(theirs.Type);
                if (table.HasAddends) mine.Addend.ShouldBe(theirs.Addend, $"addend of relocation {i} of {table}");
                if (mine.Symbol is { Type: not ElfSymbolType.Section } named) named.Name.ShouldBe(theirs.SymbolName);
            }
        }
    }

    private static string TypeName(ElfSectionType type) => type switch
    {
        ElfSectionType.ProgBits => "PROGBITS",
        ElfSectionType.NoBits => "NOBITS",
        ElfSectionType.SymbolTable => "SYMTAB",
        ElfSectionType.StringTable => "STRTAB",
        ElfSectionType.Rela => "RELA",
        ElfSectionType.Rel => "REL",
        ElfSectionType.Note => "NOTE",
        ElfSectionType.Group => "GROUP",
        ElfSectionType.InitArray => "INIT_ARRAY",
        ElfSectionType.FiniArray => "FINI_ARRAY",
        (ElfSectionType)0x6ffffff5 => "GNU_ATTRIBUTES",
        (ElfSectionType)0x70000003 => "AARCH64_ATTRIBUTES",
        _ => $"0x{(uint)type:x}",
    };

    /// <summary>readelf's flag letters (W A X M S I L O G T C x o E p), in readelf's order.</summary>
    internal static string FlagLetters(ElfSectionFlags flags)
    {
        var f = (ulong)flags;
        var letters = "";
        (ulong Bit, char Letter)[] table =
        [
            (0x1, 'W'), (0x2, 'A'), (0x4, 'X'), (0x10, 'M'), (0x20, 'S'), (0x40, 'I'), (0x80, 'L'),
            (0x100, 'O'), (0x200, 'G'), (0x400, 'T'), (0x800, 'C'), (0x80000000, 'E'),
        ];
        foreach (var (bit, letter) in table)
            if ((f & bit) != 0) letters += letter;
        if ((f & 0x0ff00000) != 0) letters += f == (f & 0x0ff00000 | 0xfff) ? "o" : "o";
        return letters;
    }
}
