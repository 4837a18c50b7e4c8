namespace Klp.Build.Tests.Support;

/// <summary>
/// A two-object livepatch (vmlinux's cmdline_proc_show and binfmt_misc's bm_status_read) as a .klpproj; with
/// <c>refuseBinfmtMisc</c>, the binfmt_misc object's pre-patch callback returns -EINVAL, a real kernel-side failure
/// to enable that object.
/// </summary>
public static class PerObjectLivepatch
{
    public const string CmdlinePatched = "cmdline patched";
    public const string StatusPatched = "status patched";

    public static TestProject Create(string name, string release, string properties = "", bool refuseBinfmtMisc = false, string items = "") => new(name, $"""
          <PropertyGroup>
            <KernelRelease>{release}</KernelRelease>
            <LivepatchPackaging>PerObject</LivepatchPackaging>
            {properties}
          </PropertyGroup>
          <ItemGroup>
            <PatchedFunction Include="cmdline_proc_show" Replacement="lp_cmdline" />
            <PatchedFunction Include="bm_status_read" Object="binfmt_misc" Replacement="lp_status" />
            {(refuseBinfmtMisc ? "<LivepatchCallback Include=\"lp_refuse\" Kind=\"PrePatch\" Object=\"binfmt_misc\" />" : "")}
            {items}
          </ItemGroup>
        """,
        ("livepatch.c", $$"""
            #include <linux/fs.h>
            #include <linux/livepatch.h>
            #include <linux/seq_file.h>
            #include <linux/string.h>

            int lp_cmdline(struct seq_file *m, void *v)
            {
            	seq_puts(m, "{{CmdlinePatched}}\n");
            	return 0;
            }

            ssize_t lp_status(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
            {
            	static const char s[] = "{{StatusPatched}}\n";
            	return simple_read_from_buffer(buf, nbytes, ppos, s, strlen(s));
            }
            {{(refuseBinfmtMisc ? """

            int lp_refuse(struct klp_object *obj)
            {
            	pr_info("klp-test: refusing to patch %s\n", obj->name);
            	return -EINVAL;
            }
            """ : "")}}
            """));
}
