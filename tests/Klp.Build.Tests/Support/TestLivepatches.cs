namespace Klp.Build.Tests.Support;

/// <summary>C sources of small test modules.</summary>
public static class TestLivepatches
{
    public const string CmdlineMarker = "this has been live patched";

    /// <summary>The classic samples/livepatch/livepatch-sample.c: /proc/cmdline prints the marker.</summary>
    public const string Cmdline = """
        #include <linux/module.h>
        #include <linux/kernel.h>
        #include <linux/livepatch.h>
        #include <linux/seq_file.h>

        static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
        {
        	seq_printf(m, "%s\n", "this has been live patched");
        	return 0;
        }

        static struct klp_func funcs[] = {
        	{ .old_name = "cmdline_proc_show", .new_func = livepatch_cmdline_proc_show, },
        	{ }
        };

        static struct klp_object objs[] = {
        	{ .funcs = funcs, },
        	{ }
        };

        static struct klp_patch patch = {
        	.mod = THIS_MODULE,
        	.objs = objs,
        };

        static int livepatch_init(void)
        {
        	return klp_enable_patch(&patch);
        }

        static void livepatch_exit(void)
        {
        }

        module_init(livepatch_init);
        module_exit(livepatch_exit);
        MODULE_LICENSE("GPL");
        MODULE_INFO(livepatch, "Y");
        """;

    /// <summary>
    /// A livepatch that uses the unexported saved_command_line without conversion: builds with
    /// KBUILD_MODPOST_WARN=1 and fails to load ("Unknown symbol saved_command_line").
    /// </summary>
    public const string UnresolvedSymbol = """
        #include <linux/module.h>
        #include <linux/kernel.h>
        #include <linux/livepatch.h>
        #include <linux/seq_file.h>

        extern char *saved_command_line;

        static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
        {
        	seq_printf(m, "patched: %s\n", saved_command_line);
        	return 0;
        }

        static struct klp_func funcs[] = {
        	{ .old_name = "cmdline_proc_show", .new_func = livepatch_cmdline_proc_show, },
        	{ }
        };

        static struct klp_object objs[] = {
        	{ .funcs = funcs, },
        	{ }
        };

        static struct klp_patch patch = {
        	.mod = THIS_MODULE,
        	.objs = objs,
        };

        static int livepatch_init(void)
        {
        	return klp_enable_patch(&patch);
        }

        module_init(livepatch_init);
        MODULE_LICENSE("GPL");
        MODULE_INFO(livepatch, "Y");
        """;
}
