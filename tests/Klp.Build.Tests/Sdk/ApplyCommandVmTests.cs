using Klp.Build.Kernels;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;
using Klp.Build.Vm;

namespace Klp.Build.Tests.Sdk;

/// <summary>
/// A packed PerObject patch applied as a unit by its own apply command (tools/klp-apply, busybox sh) inside the
/// target kernel in QEMU: apply, list, revert, the refusals, and the rollback when one module fails to load.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class ApplyCommandVmTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");
    private const string Apply = "sh /pkg/tools/klp-apply";

    private const string MountBinfmt = "mkdir -p /binfmt && mount -t binfmt_misc binfmt_misc /binfmt";

    [Fact]
    public void A_packed_PerObject_patch_is_applied_listed_and_reverted_and_a_wrong_release_or_changed_module_is_refused()
    {
        using var project = PerObjectLivepatch.Create("shipped", Release, "<EnableSafetyAnalysis>false</EnableSafetyAnalysis>");
        var package = PackAndUnzip(project, "shipped", out var unzipped);
        var kernel = Path.Combine(unzipped, "kernels", Release);
        File.Exists(Path.Combine(kernel, "manifest.json")).ShouldBeTrue(package);

        var files = new List<GuestFile>();
        files.AddRange(Tree(unzipped, "pkg"));
        // The same package for another kernel only, and one whose module changed after the build.
        files.AddRange(Tree(unzipped, "pkg-wrong", p => p.Replace($"kernels/{Release}/", "kernels/6.1.0-0-wrong/")));
        files.AddRange(Tree(unzipped, "pkg-bad").Select(f => f.GuestPath.EndsWith("shipped_binfmt_misc.ko", StringComparison.Ordinal) ? f with { Content = Flip(f.Content) } : f));
        var insmodTarget = TargetModules(files);

        var result = Run(project, files,
            $"{insmodTarget} && {MountBinfmt} && cat /proc/cmdline /binfmt/status",
            "sh /pkg-wrong/tools/klp-apply apply; rc=$?; echo livepatches: $(ls /sys/kernel/livepatch); exit $rc",
            "sh /pkg-bad/tools/klp-apply apply; rc=$?; echo livepatches: $(ls /sys/kernel/livepatch); exit $rc",
            $"{Apply} apply",
            $"{Apply} list && cat /proc/cmdline /binfmt/status /etc/modprobe.d/shipped.conf && lsmod",
            $"{Apply} apply",
            $"{Apply} revert",
            $"{Apply} list; echo livepatches: $(ls /sys/kernel/livepatch); cat /proc/cmdline /binfmt/status; lsmod; ls /etc/modprobe.d");

        var (baseline, wrong, changed, apply, applied, again, revert, reverted) =
            (result.Steps[0]!, result.Steps[1]!, result.Steps[2]!, result.Steps[3]!, result.Steps[4]!, result.Steps[5]!, result.Steps[6]!, result.Steps[7]!);
        baseline.ExitCode.ShouldBe(0, result.ToString());
        baseline.Output.ShouldContain("enabled");
        baseline.Output.ShouldNotContain(PerObjectLivepatch.CmdlinePatched);

        wrong.ExitCode.ShouldBe(1, result.ToString());
        wrong.Output.ShouldContain("error KLP6301");
        wrong.Output.ShouldContain($"this host runs kernel {Release}");
        wrong.Output.ShouldContain("livepatches:\n");
        changed.ExitCode.ShouldBe(1, result.ToString());
        changed.Output.ShouldContain("error KLP6302");
        changed.Output.ShouldContain("livepatches:\n");

        apply.ExitCode.ShouldBe(0, result.ToString());
        apply.Output.IndexOf("shipped_vmlinux enabled", StringComparison.Ordinal).ShouldBeLessThan(apply.Output.IndexOf("shipped_binfmt_misc enabled", StringComparison.Ordinal));
        applied.ExitCode.ShouldBe(0, result.ToString());
        applied.Output.ShouldContain($"shipped {Release} PerObject");
        applied.Output.ShouldContain("  shipped_vmlinux enabled=1 transition=0");
        applied.Output.ShouldContain("  shipped_binfmt_misc enabled=1 transition=0");
        applied.Output.ShouldContain(PerObjectLivepatch.CmdlinePatched);
        applied.Output.ShouldContain(PerObjectLivepatch.StatusPatched);
        applied.Output.ShouldContain("softdep binfmt_misc post: shipped_binfmt_misc");
        again.ExitCode.ShouldBe(1, result.ToString());
        again.Output.ShouldContain("error KLP6304");

        revert.ExitCode.ShouldBe(0, result.ToString());
        revert.Output.IndexOf("shipped_binfmt_misc disabled and unloaded", StringComparison.Ordinal).ShouldBeLessThan(revert.Output.IndexOf("shipped_vmlinux disabled and unloaded", StringComparison.Ordinal));
        reverted.Output.ShouldContain("no patches applied");
        reverted.Output.ShouldContain("livepatches:\n");
        reverted.Output.ShouldNotContain(PerObjectLivepatch.CmdlinePatched);
        reverted.Output.ShouldNotContain(PerObjectLivepatch.StatusPatched);
        reverted.Output.ShouldNotContain("shipped_");
        result.KernelFindings.ShouldBeEmpty(result.ToString());
    }

    [Fact]
    public void When_one_PerObject_module_fails_to_load_the_modules_loaded_before_it_are_disabled_and_unloaded()
    {
        using var project = PerObjectLivepatch.Create("refused", Release, "<EnableSafetyAnalysis>false</EnableSafetyAnalysis>", refuseBinfmtMisc: true);
        PackAndUnzip(project, "refused", out var unzipped);
        var files = Tree(unzipped, "pkg").ToList();
        var insmodTarget = TargetModules(files);

        var result = Run(project, files,
            $"{insmodTarget} && {MountBinfmt} && cat /proc/cmdline > /tmp/cmdline-before && cat /binfmt/status",
            $"{Apply} apply",
            $"{Apply} list; echo livepatches: $(ls /sys/kernel/livepatch); lsmod; cmp /proc/cmdline /tmp/cmdline-before && echo cmdline-as-before; cat /binfmt/status; ls /etc/modprobe.d; dmesg | grep klp-test");

        var (baseline, apply, after) = (result.Steps[0]!, result.Steps[1]!, result.Steps[2]!);
        baseline.ExitCode.ShouldBe(0, result.ToString());
        apply.ExitCode.ShouldBe(1, result.ToString());
        apply.Output.ShouldContain("refused_vmlinux enabled");
        apply.Output.ShouldContain("refused_vmlinux disabled and unloaded");
        apply.Output.ShouldContain("error KLP6303");
        apply.Output.ShouldContain("refused_binfmt_misc.ko (load order 2)");
        after.Output.ShouldContain("no patches applied");
        after.Output.ShouldContain("livepatches:\n");
        after.Output.ShouldNotContain("refused_");
        after.Output.ShouldContain("cmdline-as-before");
        after.Output.ShouldNotContain(PerObjectLivepatch.StatusPatched);
        after.Output.ShouldContain("klp-test: refusing to patch binfmt_misc");
        result.KernelFindings.ShouldBeEmpty(result.ToString());
    }

    /// <summary>dotnet pack, then the real unzip: the package as a target host receives it.</summary>
    private static string PackAndUnzip(TestProject project, string id, out string unzipped)
    {
        var pack = PackTests.Pack(project);
        pack.Succeeded.ShouldBeTrue(pack.ToString());
        var package = PackTests.PackageOf(project, id);
        unzipped = Path.Combine(project.Directory, "unzipped");
        var unzip = ProcessRunner.Run("unzip", ["-q", package, "-d", unzipped]);
        unzip.Succeeded.ShouldBeTrue(unzip.StandardError);
        return package;
    }

    private static IEnumerable<GuestFile> Tree(string root, string guestRoot, Func<string, string>? rename = null) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(file =>
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            return new GuestFile($"{guestRoot}/{(rename ?? (p => p))(relative)}", File.ReadAllBytes(file));
        });

    private static ReadOnlyMemory<byte> Flip(ReadOnlyMemory<byte> content)
    {
        var bytes = content.ToArray();
        bytes[bytes.Length / 2] ^= 0xff;
        return bytes;
    }

    /// <summary>binfmt_misc (and what it needs) from the target's own linux-image, as guest files; the insmod line for them.</summary>
    private static string TargetModules(List<GuestFile> files)
    {
        var modules = new KernelModuleIndex(Path.Combine(TestKernels.ImageRoot(Release), "lib", "modules", Release)).LoadOrder("binfmt_misc");
        var guestPaths = modules.Select((m, i) => $"mods/{i:D2}-{ModuleFiles.UncompressedName(m)}").ToList();
        files.AddRange(modules.Select((m, i) => GuestFile.FromHost(guestPaths[i], m)));
        return string.Join(" && ", guestPaths.Select(p => $"insmod /{p}"));
    }

    /// <summary>One boot; the initramfs and logs stay in the project's folder (removed with it).</summary>
    private static GuestSessionResult Run(TestProject project, IReadOnlyList<GuestFile> files, params string[] steps)
    {
        var work = Path.Combine(project.Directory, "vm");
        var session = new GuestSession(Path.Combine(TestKernels.ImageRoot(Release), "boot", $"vmlinuz-{Release}"), files, steps, work, TimeSpan.FromMinutes(5));
        var result = LivepatchVmRunner.RunSession(session);
        result.Completed.ShouldBeTrue(result.ToString());
        result.Steps.ShouldAllBe(s => s != null, result.ToString());
        return result;
    }
}
