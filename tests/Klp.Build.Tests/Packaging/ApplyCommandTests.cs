using System.Security.Cryptography;
using Klp.Build.Packaging;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Packaging;

/// <summary>
/// tools/klp-apply on this host, under dash and busybox sh, for what needs no root: the refusals happen before
/// anything is loaded. (Loading, listing, reverting and the rollback run in the target kernel: ApplyCommandVmTests.)
/// </summary>
public sealed class ApplyCommandTests : IDisposable
{
    private static readonly string Script = Path.Combine(RepositoryLayout.Root, "Klp.Build.Sdk", "tools", "klp-apply");
    private readonly string _package = Directory.CreateTempSubdirectory("klp-apply-").FullName;
    private readonly string _release = ProcessRunner.Run("uname", ["-r"]).StandardOutput.Trim();

    public static TheoryData<string> Shells => new() { "/bin/sh", "/bin/busybox" };

    private ProcessResult Run(string shell, params string[] arguments)
    {
        var environment = new Dictionary<string, string?>
        {
            ["KLP_STATE_DIR"] = Path.Combine(_package, "state"),
            ["KLP_MODPROBE_DIR"] = Path.Combine(_package, "modprobe.d"),
        };
        string[] shellArguments = shell == "/bin/busybox" ? ["sh", Script, "--package", _package, .. arguments] : [Script, "--package", _package, .. arguments];
        return ProcessRunner.Run(shell, shellArguments, _package, environment);
    }

    private void WritePackage(string release, byte[] module, string? sha256 = null)
    {
        var directory = Path.Combine(_package, "kernels", release);
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "lp_vmlinux.ko"), module);
        var manifest = new PatchManifest("lp", release, release + " SMP", "PerObject",
            [new ManifestModule("lp_vmlinux", "lp_vmlinux.ko", 1, sha256 ?? Convert.ToHexStringLower(SHA256.HashData(module)), [new ManifestObject("vmlinux", ["cmdline_proc_show"])])]);
        File.WriteAllText(Path.Combine(directory, "manifest.json"), manifest.ToJson());
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void A_kernel_the_package_was_not_built_for_is_refused_with_KLP6301(string shell)
    {
        WritePackage("6.1.0-0-other-amd64", [1, 2, 3]);

        var run = Run(shell, "apply");

        run.ExitCode.ShouldBe(1);
        run.StandardError.ShouldContain($"error KLP6301: this host runs kernel {_release}, which the package does not patch (it has: 6.1.0-0-other-amd64");
        Directory.Exists(Path.Combine(_package, "state")).ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void A_module_that_changed_after_the_build_is_refused_with_KLP6302_before_anything_loads(string shell)
    {
        WritePackage(_release, [1, 2, 3], sha256: new string('0', 64));

        var run = Run(shell, "apply");

        run.ExitCode.ShouldBe(1);
        run.StandardError.ShouldContain("error KLP6302: lp_vmlinux.ko has sha256 " + Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3 })));
        run.StandardError.ShouldContain("nothing was loaded");
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void List_and_revert_know_only_what_was_applied(string shell)
    {
        Run(shell, "list").StandardOutput.ShouldBe("klp-apply: no patches applied\n");
        var revert = Run(shell, "revert", "lp");
        revert.ExitCode.ShouldBe(1);
        revert.StandardError.ShouldContain("error KLP6305: lp was not applied by klp-apply");
        Run(shell, "frobnicate").ExitCode.ShouldBe(2);
    }

    public void Dispose()
    {
        try { Directory.Delete(_package, true); } catch (IOException) { }
    }
}
