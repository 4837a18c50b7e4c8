using System.Buffers.Binary;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;

namespace Klp.Build.Tests.Elf;

/// <summary>Each class of malformed input gives one KLP3001 diagnostic naming the file and the fault, and no exception.</summary>
public sealed class ElfMalformedTests : IClassFixture<ElfMalformedTests.Sample>
{
    private readonly Sample _sample;

    public ElfMalformedTests(Sample sample) => _sample = sample;

    /// <summary>A gcc-compiled x86_64 object (ELF64 LE) with .rela.text, .symtab, .strtab.</summary>
    public sealed class Sample : IDisposable
    {
        private readonly Binutils _tools = new();

        public Sample()
        {
            Bytes = System.IO.File.ReadAllBytes(_tools.CompileC("sample", ElfReadelfComparisonTests.CSource, "-O2"));
            File = ElfReader.Read(Bytes, "sample.o", new DiagnosticBag())!;
        }

        public byte[] Bytes { get; }
        public ElfFile File { get; }

        public void Dispose() => _tools.Dispose();
    }

    private byte[] Copy() => (byte[])_sample.Bytes.Clone();

    private int Index(string name) => _sample.File.FindSection(name)!.Index;

    private static ulong ShOff(byte[] b) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(0x28));

    /// <summary>Offset of a field of section header <paramref name="index"/> (ELF64: name 0, type 4, flags 8, addr 16, offset 24, size 32, link 40, info 44, align 48, entsize 56).</summary>
    private static int Field(byte[] b, int index, int field) => (int)ShOff(b) + index * 64 + field;

    private static Diagnostic Malformed(byte[] bytes, params string[] fragments)
    {
        var diagnostics = new DiagnosticBag();
        ElfReader.Read(bytes, "broken.ko", diagnostics).ShouldBeNull();
        var diagnostic = diagnostics.Items.ShouldHaveSingleItem();
        diagnostic.Code.ShouldBe("KLP3001");
        diagnostic.IsError.ShouldBeTrue();
        diagnostic.File.ShouldBe("broken.ko");
        diagnostic.Message.ShouldStartWith("malformed ELF file 'broken.ko': ");
        foreach (var fragment in fragments) diagnostic.Message.ShouldContain(fragment);
        return diagnostic;
    }

    [Fact]
    public void NotAnElfFile() => Malformed("hello world, not ELF"u8.ToArray(), "no ELF magic");

    [Fact]
    public void EmptyFile() => Malformed([], "no ELF magic");

    [Fact]
    public void TruncatedHeader() => Malformed(Copy()[..40], "shorter than the ELF header");

    [Fact]
    public void BadClass()
    {
        var b = Copy();
        b[4] = 7;
        Malformed(b, "unknown ELF class 7");
    }

    [Fact]
    public void SectionHeaderTablePastTheEnd()
    {
        var b = Copy();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(0x28), (ulong)b.Length + 8);
        Malformed(b, "section header table offset", "runs past the end of the file");
    }

    [Fact]
    public void TruncatedFileCutsTheSectionHeaderTable() => Malformed(Copy()[..^10], "runs past the end of the file");

    [Fact]
    public void HugeSectionCount()
    {
        var b = Copy();
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(0x3c), 0xfeff);
        Malformed(b, "65279 entries", "runs past the end of the file");
    }

    [Fact]
    public void AbsurdExtendedSectionCount()
    {
        var b = Copy();
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(0x3c), 0); // e_shnum 0: the count is section 0's sh_size
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Field(b, 0, 32)), 1UL << 60);
        Malformed(b, $"{1UL << 60} entries", "runs past the end of the file");
    }

    [Fact]
    public void SectionContentPastTheEnd()
    {
        var b = Copy();
        var rela = Index(".rela.text");
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Field(b, rela, 32)), 0x100000);
        Malformed(b, $"section {rela} (.rela.text) offset 0x", "+ size 0x100000 runs past the end of the file (size 0x");
    }

    [Fact]
    public void SectionOffsetOverflow()
    {
        var b = Copy();
        var text = Index(".text");
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Field(b, text, 24)), ulong.MaxValue - 4);
        Malformed(b, $"section {text} (.text) offset 0xfffffffffffffffb", "runs past the end");
    }

    [Fact]
    public void BadSectionNameOffset()
    {
        var b = Copy();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(Field(b, 1, 0)), 0x7fffffff);
        Malformed(b, "section 1 has a name offset 0x7fffffff outside its string table");
    }

    [Fact]
    public void BadSymbolNameOffset()
    {
        var b = Copy();
        var symtab = _sample.File.SymbolTable!;
        var at = (int)symtab.OriginalOffset + 24 * 3; // symbol 3's st_name
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), 0xabcdef);
        Malformed(b, "symbol 3 of", "(.symtab) has a name offset 0xabcdef outside its string table");
    }

    [Fact]
    public void ShstrndxOutOfRange()
    {
        var b = Copy();
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(0x3e), 0xfe00);
        Malformed(b, "e_shstrndx 65024 is out of range");
    }

    [Fact]
    public void ZeroSymbolEntrySize()
    {
        var b = Copy();
        var symtab = Index(".symtab");
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Field(b, symtab, 56)), 0);
        Malformed(b, $"section {symtab} (.symtab) (symbol table) has sh_entsize 0, expected 24");
    }

    [Fact]
    public void WrongRelocationEntrySize()
    {
        var b = Copy();
        var rela = Index(".rela.text");
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Field(b, rela, 56)), 16);
        Malformed(b, $"section {rela} (.rela.text) (relocations) has sh_entsize 16, expected 24");
    }

    [Fact]
    public void RelocationSizeNotAMultipleOfTheEntrySize()
    {
        var b = Copy();
        var rela = Index(".rela.text");
        var size = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(Field(b, rela, 32)));
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(Field(b, rela, 32)), size - 5);
        Malformed(b, "is not a multiple of its entry size 24");
    }

    [Fact]
    public void LinkOutOfRange()
    {
        var b = Copy();
        var rela = Index(".rela.text");
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(Field(b, rela, 40)), 999);
        Malformed(b, $"section {rela} (.rela.text) links to section 999, which is out of range");
    }

    [Fact]
    public void LinkCycle()
    {
        var b = Copy();
        var strtab = Index(".strtab");
        var symtab = Index(".symtab");
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(Field(b, strtab, 40)), (uint)symtab);
        Malformed(b, "sh_link cycle");
    }

    [Fact]
    public void SelfLink()
    {
        var b = Copy();
        var text = Index(".text");
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(Field(b, text, 40)), (uint)text);
        Malformed(b, $"section {text} (.text) is part of a sh_link cycle");
    }

    [Fact]
    public void RelocationsLinkedToANonSymbolTable()
    {
        var b = Copy();
        var rela = Index(".rela.text");
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(Field(b, rela, 40)), (uint)Index(".text"));
        Malformed(b, "(.rela.text) holds relocations whose sh_link", "is not a symbol table");
    }

    [Fact]
    public void RelocationInfoOutOfRange()
    {
        var b = Copy();
        var rela = Index(".rela.text");
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(Field(b, rela, 44)), 4242);
        Malformed(b, "(.rela.text) has sh_info 4242, which is out of range");
    }

    [Fact]
    public void RelocationSymbolIndexOutOfRange()
    {
        var b = Copy();
        var rela = (ElfRelocationTable)_sample.File.FindSection(".rela.text")!;
        var at = (int)rela.OriginalOffset + 8 + 4; // r_info's high word (symbol index) of entry 0
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), 100000);
        Malformed(b, "relocation 0 of", "(.rela.text) uses symbol index 100000, but its symbol table", "(.symtab) has");
    }

    [Fact]
    public void SymbolSectionIndexOutOfRange()
    {
        var b = Copy();
        var at = (int)_sample.File.SymbolTable!.OriginalOffset + 24 * 2 + 6; // symbol 2's st_shndx
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), 0x1234);
        Malformed(b, "symbol 2", "has section index 4660, out of range");
    }

    [Fact]
    public void XIndexWithoutExtendedTable()
    {
        var b = Copy();
        var at = (int)_sample.File.SymbolTable!.OriginalOffset + 24 * 2 + 6;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), 0xffff);
        Malformed(b, "uses SHN_XINDEX but the file has no SHT_SYMTAB_SHNDX section");
    }

    [Fact]
    public void MissingFileIsAnUnreadableDiagnostic()
    {
        var diagnostics = new DiagnosticBag();
        ElfReader.Read("/nonexistent/klp/missing.ko", diagnostics).ShouldBeNull();
        diagnostics.Items.ShouldHaveSingleItem().Code.ShouldBe(ElfReader.UnreadableCode);
    }
}
