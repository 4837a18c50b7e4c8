using Klp.Build.Tests.Elf;

namespace Klp.Build.Tests.Dwarf;

/// <summary>A small C file with what the DWARF index must see: static/inline functions, a struct pointer parameter,
/// an inline function inlined twice, and static noinline functions that gcc -O2 turns into .constprop/.isra clones.</summary>
internal static class DwarfTestSources
{
    public const string Clones = """
        struct seq_file { int count; char *buf; };
        struct big { int a, b, c, d; long e[8]; };

        static inline int helper(int x) { return x * 3 + 1; }

        static __attribute__((noinline)) int scale(struct big *b, int factor, int unused)
        {
            return b->a * factor + b->b;
        }

        static __attribute__((noinline)) int konst(int mode, const char *s)
        {
            int n = 0;
            while (*s) n += *s++ * mode;
            return n;
        }

        int show(struct seq_file *m, void *v)
        {
            struct big b = { m->count, 2 };
            return helper(m->count) + scale(&b, 7, 0) + konst(5, m->buf) + konst(5, "x");
        }

        int vsum(int n, ...) { return n + helper(n); }
        extern int ext(const char *fmt, ...);
        int caller(void) { return ext("x", 1); }
        int (*pick(int which))(struct seq_file *, void *) { return which ? show : 0; }
        const char *const *names(unsigned char flags[16], volatile long *counter) { (void)flags; (void)counter; return 0; }
        """;

    public static string Compile(Binutils tools, string dwarfVersion, string name = "clones") =>
        tools.CompileC(name + dwarfVersion, Clones, "-O2", "-g", "-gdwarf-" + dwarfVersion);
}
