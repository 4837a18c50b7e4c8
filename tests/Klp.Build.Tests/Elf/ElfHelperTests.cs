using System.Text;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;

namespace Klp.Build.Tests.Elf;

public sealed class ElfHelperTests
{
    [Theory]
    [InlineData(ElfMachine.X86_64, 2u, "R_X86_64_PC32")]
    [InlineData(ElfMachine.X86_64, 4u, "R_X86_64_PLT32")]
    [InlineData(ElfMachine.X86_64, 11u, "R_X86_64_32S")]
    [InlineData(ElfMachine.Ppc64, 10u, "R_PPC64_REL24")]
    [InlineData(ElfMachine.Ppc64, 50u, "R_PPC64_TOC16_HA")]
    [InlineData(ElfMachine.S390, 19u, "R_390_PC32DBL")]
    [InlineData(ElfMachine.S390, 20u, "R_390_PLT32DBL")]
    [InlineData(ElfMachine.AArch64, 283u, "R_AARCH64_CALL26")]
    [InlineData(ElfMachine.AArch64, 275u, "R_AARCH64_ADR_PREL_PG_HI21")]
    [InlineData(ElfMachine.I386, 2u, "R_386_PC32")]
    public void RelocationTypesHaveTheirBinutilsNames(ElfMachine machine, uint type, string name)
    {
        ElfRelocationTypes.GetName(machine, type).ShouldBe(name);
        ElfRelocationTypes.TryGetType(machine, name, out var back).ShouldBeTrue();
        back.ShouldBe(type);
    }

    [Fact]
    public void UnknownRelocationTypesAreDescribedNotThrown()
    {
        ElfRelocationTypes.GetName(ElfMachine.X86_64, 9999).ShouldBeNull();
        ElfRelocationTypes.Describe(ElfMachine.RiscV, 3).ShouldBe("R_RiscV_3");
    }

    [Fact]
    public void ModInfoSplitsKeyValuePairsAndSkipsPadding()
    {
        var bytes = Encoding.ASCII.GetBytes("license=GPL\0\0\0depends=a,b\0name=demo\0vermagic=6.1.0-56-amd64 SMP mod_unload \0alias=x\0alias=y\0");
        var info = ElfModInfo.Parse(bytes);
        info.License.ShouldBe("GPL");
        info.Name.ShouldBe("demo");
        info.VerMagic.ShouldBe("6.1.0-56-amd64 SMP mod_unload ");
        info.Depends.ShouldBe(["a", "b"]);
        info.GetAll("alias").ShouldBe(["x", "y"]);
    }

    [Fact]
    public void ModInfoAndNotesOfARealModule()
    {
        var release = Support.TestKernels.NewestRelease("6.1");
        var modules = Path.Combine(Support.TestKernels.ImageRoot(release), "lib", "modules", release, "kernel");
        var path = Directory.GetFiles(modules, "ext4.ko", SearchOption.AllDirectories).Single();
        var diagnostics = new DiagnosticBag();
        var file = ElfReader.Read(path, diagnostics).ShouldNotBeNull();

        var info = ElfModInfo.Read(file).ShouldNotBeNull();
        info.Name.ShouldBe("ext4");
        info.License.ShouldBe("GPL");
        info.VerMagic.ShouldNotBeNull().ShouldStartWith(release.Split('-')[0] + "-");
        info.Depends.ShouldContain("jbd2");

        var notes = ElfNotes.ReadAll(file, diagnostics).ToList();
        diagnostics.Items.ShouldBeEmpty();
        var readelf = Binutils.Readelf("-n", path);
        foreach (var (_, note) in notes) readelf.ShouldContain(note.Name);
        notes.ShouldContain(n => n.Note.Name == "GNU" && n.Note.Type == ElfNote.GnuBuildId && readelf.Contains(n.Note.DescriptorHex));
        notes.ShouldContain(n => n.Note.Name == "Linux");
    }

    [Fact]
    public void TruncatedNoteIsADiagnostic()
    {
        var file = new ElfFile(ElfClass.Elf64, ElfData.LittleEndian, ElfMachine.X86_64, ElfFileType.Relocatable);
        var note = file.AddSection(new ElfRawSection(ElfSectionType.Note) { Name = ".note.bad", Data = new byte[] { 4, 0, 0, 0, 200, 0, 0, 0, 1, 0, 0, 0, (byte)'G', 0, 0, 0 } });
        var diagnostics = new DiagnosticBag();
        ElfNotes.Read(file, note, diagnostics).ShouldBeEmpty();
        diagnostics.Items.ShouldHaveSingleItem().Code.ShouldBe(ElfReader.MalformedCode);
    }
}
