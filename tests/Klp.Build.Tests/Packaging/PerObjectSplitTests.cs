using Klp.Build.Packaging;
using Klp.Build.Registration;

namespace Klp.Build.Tests.Packaging;

public sealed class PerObjectSplitTests
{
    private static readonly LivepatchDefinition Definition = new("lp",
        [new PatchedFunction("bm_status_read", "lp_status", "binfmt_misc"), new PatchedFunction("cmdline_proc_show", "lp_cmdline")],
        [new LivepatchCallback("lp_post_unpatch", CallbackKind.PostUnpatch, "binfmt_misc")]);

    [Fact]
    public void Each_object_gets_its_own_module_and_klp_patch_vmlinux_first_without_atomic_replace()
    {
        var modules = PerObjectSplit.Split(Definition);

        modules.Select(m => (m.ModuleName, m.Object, m.LoadOrder)).ShouldBe([("lp_vmlinux", "vmlinux", 1), ("lp_binfmt_misc", "binfmt_misc", 2)]);
        var vmlinux = RegistrationWriter.Write(modules[0].Definition);
        vmlinux.ShouldContain("cmdline_proc_show");
        vmlinux.ShouldNotContain("bm_status_read");
        vmlinux.ShouldContain(".replace = false");
        var binfmt = RegistrationWriter.Write(modules[1].Definition);
        binfmt.ShouldContain(".name = \"binfmt_misc\"");
        binfmt.ShouldContain("lp_post_unpatch");
        binfmt.ShouldNotContain("cmdline_proc_show");
    }

    [Fact]
    public void The_manifest_lists_modules_in_load_order_and_softdeps_name_module_targets_only()
    {
        var manifest = new PatchManifest("lp", "6.1.0-56-amd64", "6.1.0-56-amd64 SMP preempt mod_unload modversions ", "PerObject",
        [
            new ManifestModule("lp_binfmt_misc", "lp_binfmt_misc.ko", 2, "bb", [new ManifestObject("binfmt_misc", ["bm_status_read"])]),
            new ManifestModule("lp_vmlinux", "lp_vmlinux.ko", 1, "aa", [new ManifestObject("vmlinux", ["cmdline_proc_show"])]),
        ]);

        var json = manifest.ToJson();
        var read = PatchManifest.FromJson(json);
        read.Modules.Select(m => m.Module).ShouldBe(["lp_vmlinux", "lp_binfmt_misc"]);
        read.Modules[1].Objects.Single().Functions.ShouldBe(["bm_status_read"]);
        read.KernelRelease.ShouldBe("6.1.0-56-amd64");
        read.Vermagic.ShouldStartWith("6.1.0-56-amd64 SMP");
        read.Softdeps.ShouldBe([new ManifestSoftdep("binfmt_misc", "lp_binfmt_misc")]);
        json.ShouldContain("\"softdeps\"");
        manifest.ModprobeConf().Split('\n').Where(l => l.StartsWith("softdep")).ShouldBe(["softdep binfmt_misc post: lp_binfmt_misc"]);
    }

    [Fact]
    public void A_combined_manifest_has_one_module_for_every_object_and_no_softdeps()
    {
        var manifest = new PatchManifest("lp", "6.1.0-56-amd64", "vm", "Combined",
            [new ManifestModule("lp", "lp.ko", 1, "aa", [new ManifestObject("vmlinux", ["cmdline_proc_show"]), new ManifestObject("binfmt_misc", ["bm_status_read"])])]);

        var read = PatchManifest.FromJson(manifest.ToJson());

        read.Modules.Single().Objects.Select(o => o.Name).ShouldBe(["vmlinux", "binfmt_misc"]);
        read.Softdeps.ShouldBeEmpty();
    }
}
