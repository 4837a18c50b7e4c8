using Klp.Build.Packaging;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>dotnet pack of a .klpproj: per release the modules, manifest and safety report, the apply command; reproducible.</summary>
[Collection(SdkCollection.Name)]
public sealed class PackTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    public static BuildResult Pack(TestProject project, IDictionary<string, string?>? environment = null, params string[] arguments) =>
        DotnetBuild.Run(project.ProjectPath, arguments, environment, verb: "pack");

    /// <summary>dotnet pack builds Release unless told otherwise.</summary>
    public static string PackageOf(TestProject project, string id) =>
        Directory.GetFiles(Path.Combine(project.Directory, "bin", "Release"), $"{id}.*.nupkg").Single();

    /// <summary>unzip as the independent reader of the package.</summary>
    public static IReadOnlyList<string> Entries(string package)
    {
        var listing = ProcessRunner.Run("unzip", ["-Z1", package]);
        listing.Succeeded.ShouldBeTrue(listing.StandardError);
        return listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static byte[] Entry(string package, string entry)
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("klp-unzip-").FullName, "entry");
        try
        {
            var run = ProcessRunner.Run("sh", ["-c", "unzip -p \"$1\" \"$2\" > \"$3\"", "sh", package, entry, file]);
            run.Succeeded.ShouldBeTrue(run.StandardError);
            return File.ReadAllBytes(file);
        }
        finally { Directory.Delete(Path.GetDirectoryName(file)!, true); }
    }

    [Fact]
    public async Task Two_packs_in_different_directories_at_different_times_give_identical_packages()
    {
        var environment = new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000" };
        using var first = PerObjectLivepatch.Create("packed", Release);
        using var second = PerObjectLivepatch.Create("packed", Release);

        var a = Pack(first, environment);
        a.Succeeded.ShouldBeTrue(a.ToString());
        await Task.Delay(TimeSpan.FromSeconds(2));
        var b = Pack(second, environment);
        b.Succeeded.ShouldBeTrue(b.ToString());

        var package = PackageOf(first, "packed");
        Path.GetFileName(package).ShouldBe("packed.1.0.0.nupkg");
        var entries = Entries(package);
        var kernel = $"kernels/{Release}/";
        entries.ShouldContain(kernel + "packed_vmlinux.ko");
        entries.ShouldContain(kernel + "packed_binfmt_misc.ko");
        entries.ShouldContain(kernel + "manifest.json");
        entries.ShouldContain(kernel + "packed.conf");
        entries.ShouldContain(kernel + "klp-safety-vmlinux.json");
        entries.ShouldContain(kernel + "klp-safety-binfmt_misc.json");
        entries.ShouldContain("tools/klp-apply");
        entries.ShouldContain("README.md");
        entries.ShouldContain("packed.nuspec");
        entries.ShouldNotContain(e => e.StartsWith("lib/", StringComparison.Ordinal) || e.EndsWith(".dll", StringComparison.Ordinal));

        var manifest = PatchManifest.FromJson(System.Text.Encoding.UTF8.GetString(Entry(package, kernel + "manifest.json")));
        manifest.KernelRelease.ShouldBe(Release);
        manifest.Packaging.ShouldBe("PerObject");
        manifest.Modules.Select(m => m.Module).ShouldBe(["packed_vmlinux", "packed_binfmt_misc"]);
        manifest.Softdeps.ShouldBe([new ManifestSoftdep("binfmt_misc", "packed_binfmt_misc")]);
        foreach (var module in manifest.Modules)
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Entry(package, kernel + module.File))).ShouldBe(module.Sha256);
        Entry(package, "tools/klp-apply").ShouldBe(File.ReadAllBytes(Path.Combine(RepositoryLayout.Root, "Klp.Build.Sdk", "tools", "klp-apply")));
        System.Text.Encoding.UTF8.GetString(Entry(package, kernel + "klp-safety-vmlinux.json")).ShouldContain("cmdline_proc_show");

        // Byte-identical modules and packages, and the reason when they are not.
        foreach (var module in manifest.Modules)
            PatchManifest.Sha256Of(Path.Combine(second.OutputDirectory(Release, "Release"), module.File)).ShouldBe(module.Sha256, $"{module.File} differs between {first.Directory} and {second.Directory}");
        var other = PackageOf(second, "packed");
        if (!File.ReadAllBytes(package).AsSpan().SequenceEqual(File.ReadAllBytes(other)))
        {
            var listing = ProcessRunner.Run("unzip", ["-Zv", package]).StandardOutput;
            var otherListing = ProcessRunner.Run("unzip", ["-Zv", other]).StandardOutput;
            throw new ShouldAssertException($"{package} and {other} differ\n{Diff(listing, otherListing)}");
        }
    }

    [Fact]
    public void Under_ContinuousIntegrationBuild_without_SOURCE_DATE_EPOCH_packages_are_identical_with_fixed_entry_times()
    {
        TestProject Cmdline() => new("cipack", $"""
              <PropertyGroup>
                <KernelRelease>{Release}</KernelRelease>
                <EnableSafetyAnalysis>false</EnableSafetyAnalysis>
                <ContinuousIntegrationBuild>true</ContinuousIntegrationBuild>
              </PropertyGroup>
              <ItemGroup><PatchedFunction Include="cmdline_proc_show" Replacement="lp_cmdline" /></ItemGroup>
            """, ("livepatch.c", """
                #include <linux/seq_file.h>
                int lp_cmdline(struct seq_file *m, void *v) { seq_puts(m, "ci\n"); return 0; }
                """));
        using var first = Cmdline();
        using var second = Cmdline();
        var environment = new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = null };

        var a = Pack(first, environment);
        a.Succeeded.ShouldBeTrue(a.ToString());
        var b = Pack(second, environment);
        b.Succeeded.ShouldBeTrue(b.ToString());

        var package = PackageOf(first, "cipack");
        File.ReadAllBytes(PackageOf(second, "cipack")).ShouldBe(File.ReadAllBytes(package));
        // zipinfo -T: every entry at the fixed time (1980-01-02, zip's DOS times start in 1980), none at the pack's.
        var times = ProcessRunner.Run("zipinfo", ["-T", package]).StandardOutput.Split('\n').Where(l => l.Contains(" kernels/") || l.Contains(" tools/")).ToList();
        times.Count.ShouldBe(3, string.Join('\n', times));
        times.ShouldAllBe(l => l.Contains(" 19800102.000000 "));
    }

    private static string Diff(string a, string b)
    {
        var left = a.Split('\n');
        var right = b.Split('\n');
        return string.Join('\n', left.Zip(right).Where(p => p.First != p.Second).Take(40).Select(p => $"- {p.First}\n+ {p.Second}"));
    }

    [Fact]
    public void A_multi_kernel_project_packs_every_release_with_a_combined_manifest()
    {
        var newer = TestKernels.NewestRelease("6.12");
        using var project = new TestProject("multipack", $"""
              <PropertyGroup>
                <KernelReleases>{Release};{newer}</KernelReleases>
                <EnableSafetyAnalysis>false</EnableSafetyAnalysis>
                <PackageId>Contoso.Livepatch.Cmdline</PackageId>
                <Version>1.2.3</Version>
              </PropertyGroup>
              <ItemGroup><PatchedFunction Include="cmdline_proc_show" Replacement="livepatch_cmdline_proc_show" /></ItemGroup>
            """, ("livepatch.c", """
                #include <linux/seq_file.h>
                int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
                {
                	seq_puts(m, "packed for two kernels\n");
                	return 0;
                }
                """));

        var result = Pack(project);

        result.Succeeded.ShouldBeTrue(result.ToString());
        var package = PackageOf(project, "Contoso.Livepatch.Cmdline");
        Path.GetFileName(package).ShouldBe("Contoso.Livepatch.Cmdline.1.2.3.nupkg");
        var entries = Entries(package);
        foreach (var release in new[] { Release, newer })
        {
            entries.ShouldContain($"kernels/{release}/multipack.ko");
            var manifest = PatchManifest.FromJson(System.Text.Encoding.UTF8.GetString(Entry(package, $"kernels/{release}/manifest.json")));
            manifest.KernelRelease.ShouldBe(release);
            manifest.Packaging.ShouldBe("Combined");
            manifest.Softdeps.ShouldBeEmpty();
            var module = manifest.Modules.Single();
            module.Objects.Single().Name.ShouldBe("vmlinux");
            module.Objects.Single().Functions.ShouldBe(["cmdline_proc_show"]);
            module.Sha256.ShouldBe(PatchManifest.Sha256Of(Path.Combine(project.OutputDirectory(release, "Release"), "multipack.ko")));
            manifest.Vermagic.ShouldBe(ProcessRunner.Run("modinfo", ["-F", "vermagic", Path.Combine(project.OutputDirectory(release, "Release"), "multipack.ko")]).StandardOutput.TrimEnd('\n'));
        }
        entries.ShouldNotContain(e => e.EndsWith(".conf", StringComparison.Ordinal));
        entries.ShouldContain("tools/klp-apply");
    }
}
