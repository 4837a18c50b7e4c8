using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>The generated registration, and the hand-written one, built and loaded in the target kernel.</summary>
[Collection(SdkCollection.Name)]
public sealed class RegistrationTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    [Fact]
    public void Callbacks_positions_two_objects_and_no_atomic_replace_work_in_the_kernel()
    {
        using var project = new TestProject("registration", $"""
              <PropertyGroup>
                <KernelRelease>{Release}</KernelRelease>
                <EnableAtomicReplace>false</EnableAtomicReplace>
              </PropertyGroup>
              <ItemGroup>
                <PatchedFunction Include="cmdline_proc_show" Replacement="lp_cmdline" Position="1" />
                <PatchedFunction Include="bm_status_read" Object="binfmt_misc" Replacement="lp_status" />
                <LivepatchCallback Include="lp_pre_patch" Kind="PrePatch" />
                <LivepatchCallback Include="lp_post_unpatch" Kind="PostUnpatch" Object="binfmt_misc" />
                <VmSetupCommand Include="mkdir -p /binfmt &amp;&amp; mount -t binfmt_misc binfmt_misc /binfmt" />
                <VmCheck Include="cat /proc/cmdline" ExpectedPatched="cmdline patched" />
                <VmCheck Include="cat /binfmt/status" ExpectedPatched="status patched" ExpectedUnpatched="enabled" />
                <VmCheckScript Include="callbacks.sh" />
              </ItemGroup>
            """,
            ("livepatch.c", """
                #include <linux/fs.h>
                #include <linux/livepatch.h>
                #include <linux/seq_file.h>
                #include <linux/string.h>

                int lp_cmdline(struct seq_file *m, void *v)
                {
                	seq_puts(m, "cmdline patched\n");
                	return 0;
                }

                ssize_t lp_status(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
                {
                	static const char s[] = "status patched\n";
                	return simple_read_from_buffer(buf, nbytes, ppos, s, strlen(s));
                }

                int lp_pre_patch(struct klp_object *obj)
                {
                	pr_info("klp-test: pre_patch %s\n", obj->name ? obj->name : "vmlinux");
                	return 0;
                }

                void lp_post_unpatch(struct klp_object *obj)
                {
                	pr_info("klp-test: post_unpatch %s\n", obj->name);
                }
                """),
            ("callbacks.sh", """
                case "$1" in
                  unpatched) ! dmesg | grep -q 'klp-test:' ;;
                  patched) dmesg | grep -q 'klp-test: pre_patch vmlinux' && ! dmesg | grep -q 'post_unpatch' ;;
                  disabled) dmesg | grep -q 'klp-test: post_unpatch binfmt_misc' ;;
                esac
                """));

        var result = project.Build("-t:Test");

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Output.ShouldContain("result: passed");
        var registration = File.ReadAllText(Path.Combine(project.Directory, "obj", "Debug", Release, "kbuild", "klp-registration.c"));
        registration.ShouldContain(".replace = false");
        registration.ShouldContain(".old_sympos = 1");
        registration.ShouldContain(".name = \"binfmt_misc\"");
    }

    [Fact]
    public void A_project_can_register_its_patch_by_hand()
    {
        using var project = new TestProject("by-hand", $"""
              <PropertyGroup>
                <KernelRelease>{Release}</KernelRelease>
                <GenerateLivepatchRegistration>false</GenerateLivepatchRegistration>
              </PropertyGroup>
              <ItemGroup>
                <VmCheck Include="cat /proc/cmdline" ExpectedPatched="registered by hand" />
              </ItemGroup>
            """,
            ("livepatch-sample.c", """
                #include <linux/module.h>
                #include <linux/kernel.h>
                #include <linux/livepatch.h>
                #include <linux/seq_file.h>

                static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
                {
                	seq_printf(m, "%s\n", "registered by hand");
                	return 0;
                }

                static struct klp_func funcs[] = {
                	{ .old_name = "cmdline_proc_show", .new_func = livepatch_cmdline_proc_show, },
                	{ }
                };

                static struct klp_object objs[] = { { .funcs = funcs, }, { } };

                static struct klp_patch patch = { .mod = THIS_MODULE, .objs = objs, };

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
                """));

        var result = project.Build("-t:Test");

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Output.ShouldContain("result: passed");
        File.Exists(Path.Combine(project.Directory, "obj", "Debug", Release, "kbuild", "klp-registration.c")).ShouldBeFalse();
    }
}
