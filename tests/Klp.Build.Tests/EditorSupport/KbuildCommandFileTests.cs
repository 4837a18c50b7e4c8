using Klp.Build.EditorSupport;

namespace Klp.Build.Tests.EditorSupport;

/// <summary>The first line of kbuild's .&lt;object&gt;.cmd files, in the two spellings Debian's kernels write.</summary>
public sealed class KbuildCommandFileTests
{
    [Theory]
    [InlineData("cmd_")]      // 6.1
    [InlineData("savedcmd_")] // 6.3 and later (6.12)
    public void A_compile_record_gives_the_command_and_its_source_without_the_objtool_step(string prefix)
    {
        var line = $"{prefix}/w/obj/kbuild/src/lp.o :=  gcc-12 -Wp,-MMD,/w/obj/kbuild/src/.lp.o.d -nostdinc -I./include -DKBUILD_MODNAME='\"lp\"' -c -o /w/obj/kbuild/src/lp.o /w/obj/kbuild/src/lp.c   ; ./tools/objtool/objtool --orc --module /w/obj/kbuild/src/lp.o";

        var compilation = KbuildCommandFile.Parse(line).ShouldNotBeNull();

        compilation.Source.ShouldBe("/w/obj/kbuild/src/lp.c");
        compilation.CommandWithoutSource.ShouldBe("gcc-12 -Wp,-MMD,/w/obj/kbuild/src/.lp.o.d -nostdinc -I./include -DKBUILD_MODNAME='\"lp\"' -c -o /w/obj/kbuild/src/lp.o");
    }

    [Fact]
    public void A_compile_record_without_objtool_ends_at_the_source()
    {
        var compilation = KbuildCommandFile.Parse("savedcmd_src/lp.o := gcc -c -o src/lp.o src/lp.c  ").ShouldNotBeNull();

        compilation.Source.ShouldBe("src/lp.c");
    }

    [Theory]
    [InlineData("savedcmd_/w/obj/kbuild/lp.ko := ld -r -m elf_x86_64 -o /w/obj/kbuild/lp.ko /w/obj/kbuild/lp.o /w/obj/kbuild/lp.mod.o")]
    [InlineData("cmd_/w/obj/kbuild/lp.o := ld -m elf_x86_64 -r -o /w/obj/kbuild/lp.o @/w/obj/kbuild/lp.mod")]
    [InlineData("")]
    public void Links_and_empty_files_record_no_compilation(string line) =>
        KbuildCommandFile.Parse(line).ShouldBeNull();
}
