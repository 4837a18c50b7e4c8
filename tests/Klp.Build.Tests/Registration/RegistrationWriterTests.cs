using Klp.Build.Diagnostics;
using Klp.Build.Registration;

namespace Klp.Build.Tests.Registration;

public sealed class RegistrationWriterTests
{
    private static LivepatchDefinition Definition(bool replace = true) => new("lp",
        [new PatchedFunction("cmdline_proc_show", "lp_cmdline"), new PatchedFunction("type_show", "lp_type", Position: 3),
         new PatchedFunction("bm_status_read", "lp_status", "binfmt_misc")],
        [new LivepatchCallback("lp_pre", CallbackKind.PrePatch, "binfmt_misc"), new LivepatchCallback("lp_post", CallbackKind.PostUnpatch)],
        replace, "a \"quoted\" description");

    [Fact]
    public void Objects_funcs_callbacks_and_patch_are_written_as_the_livepatch_core_expects()
    {
        var c = RegistrationWriter.Write(Definition());

        c.ShouldContain("static struct klp_func klp_funcs_vmlinux[] = {");
        c.ShouldContain("{ .old_name = \"type_show\", .new_func = lp_type, .old_sympos = 3 },");
        c.ShouldContain("static struct klp_func klp_funcs_binfmt_misc[] = {");
        c.IndexOf(".name = NULL, /* vmlinux */", StringComparison.Ordinal).ShouldBeLessThan(c.IndexOf(".name = \"binfmt_misc\"", StringComparison.Ordinal));
        c.ShouldContain(".pre_patch = lp_pre,");
        c.ShouldContain(".post_unpatch = lp_post,");
        c.ShouldContain("extern int lp_pre(struct klp_object *obj);");
        c.ShouldContain(".replace = true,");
        c.ShouldContain("MODULE_INFO(livepatch, \"Y\");");
        c.ShouldContain("MODULE_LICENSE(\"GPL\");");
        c.ShouldContain("return klp_enable_patch(&klp_patch);");
        c.ShouldContain("MODULE_DESCRIPTION(\"a \\\"quoted\\\" description\");");
        RegistrationWriter.Write(Definition(replace: false)).ShouldContain(".replace = false,");
    }

    [Fact]
    public void The_validator_refuses_what_the_kernel_or_C_would_not_take()
    {
        var bag = new DiagnosticBag();
        LivepatchDefinitionValidator.Validate(new LivepatchDefinition("lp",
            [new PatchedFunction("f", ""), new PatchedFunction("g", "not an identifier"), new PatchedFunction("h", "x", "mod.with.dots"),
             new PatchedFunction("i", "y", Position: -1), new PatchedFunction("i", "y", Position: -1)],
            [new LivepatchCallback("a", CallbackKind.PrePatch), new LivepatchCallback("b", CallbackKind.PrePatch)]), "p.klpproj", bag);

        bag.Items.Select(d => d.Code).ShouldBe(["KLP2008", "KLP2013", "KLP2013", "KLP2013", "KLP2013", "KLP2014", "KLP2010"], ignoreOrder: true);
        bag.Items.ShouldAllBe(d => d.File == "p.klpproj");
    }

    [Fact]
    public void Module_names_are_normalized_as_the_kernel_does() =>
        LivepatchDefinitionValidator.NormalizeObjectName("nf-conntrack").ShouldBe("nf_conntrack");
}
