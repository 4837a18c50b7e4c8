namespace Klp.Build.Vm;

/// <summary>The initramfs written for a test, and what the guest will run.</summary>
public sealed record Initramfs(string Path, GuestPlan Plan, IReadOnlyList<string> Entries);

/// <summary>
/// Builds the guest initramfs: static busybox at /bin/busybox with a symlink per applet, /init, the patch module,
/// the prerequisite modules (decompressed on the host), setup commands and checks as scripts under /klp.
/// </summary>
public static class InitramfsBuilder
{
    public const string FileName = "initrd.gz";

    public static Initramfs Build(LivepatchVmTest test, string busybox, string directory)
    {
        Directory.CreateDirectory(directory);
        var archive = new CpioArchive();
        AddUserland(archive, busybox);

        var patchPath = "klp/" + ModuleFiles.UncompressedName(test.PatchModule);
        GuestPatchSet? patchSet = null;
        if (test.PatchSet is { } set) patchSet = AddPackage(archive, set);
        else archive.AddFile(patchPath, ModuleFiles.ReadDecompressed(test.PatchModule));

        var prerequisites = new List<string>();
        for (var i = 0; i < test.PrerequisiteModules.Count; i++)
        {
            var guest = $"klp/modules/{i:D2}-{ModuleFiles.UncompressedName(test.PrerequisiteModules[i])}";
            archive.AddFile(guest, ModuleFiles.ReadDecompressed(test.PrerequisiteModules[i]));
            prerequisites.Add("/" + guest);
        }

        var setup = new List<string>();
        for (var i = 0; i < test.SetupCommands.Count; i++)
        {
            var guest = $"klp/setup/{i}.sh";
            archive.AddFile(guest, test.SetupCommands[i] + "\n", 0b111_101_101);
            setup.Add("/" + guest);
        }

        var checks = new List<GuestCheck>();
        for (var i = 0; i < test.Checks.Count; i++)
        {
            var guest = $"klp/checks/c{i}.sh";
            archive.AddFile(guest, test.Checks[i].Command + "\n", 0b111_101_101);
            checks.Add(new GuestCheck($"c{i}", "/" + guest));
        }
        for (var i = 0; i < test.CheckScripts.Count; i++)
        {
            var guest = $"klp/checks/s{i}-{Path.GetFileName(test.CheckScripts[i])}";
            if (!File.Exists(test.CheckScripts[i]))
                throw new FileNotFoundException($"check script {test.CheckScripts[i]} does not exist", test.CheckScripts[i]);
            archive.AddFile(guest, File.ReadAllBytes(test.CheckScripts[i]), 0b111_101_101);
            checks.Add(new GuestCheck($"s{i}", "/" + guest));
        }

        var plan = new GuestPlan(test.PatchName, "/" + patchPath, prerequisites, setup, checks, test.TransitionTimeout, test.LoadPatchFirst, patchSet);
        archive.AddFile("init", GuestInitScript.Generate(plan), 0b111_101_101);

        var path = System.IO.Path.Combine(directory, FileName);
        archive.WriteGzip(path);
        return new Initramfs(path, plan, archive.Paths);
    }

    /// <summary>
    /// A PerObject patch laid out as its package: /klp/pkg/tools/klp-apply and kernels/&lt;release&gt;/ with the manifest
    /// and the modules as the build wrote them (the apply command checks their sha256).
    /// </summary>
    private static GuestPatchSet AddPackage(CpioArchive archive, VmPatchSet set)
    {
        const string package = "klp/pkg";
        var kernel = $"{package}/kernels/{set.KernelRelease}";
        archive.AddFile($"{package}/tools/klp-apply", File.ReadAllBytes(set.ApplyCommand), 0b111_101_101);
        archive.AddFile($"{kernel}/manifest.json", File.ReadAllBytes(set.Manifest));
        foreach (var module in set.Modules)
            archive.AddFile($"{kernel}/{Path.GetFileName(module.File)}", File.ReadAllBytes(module.File));
        return new GuestPatchSet($"/{package}/tools/klp-apply", set.Modules.Select(m => m.Name).ToList());
    }

    /// <summary>The initramfs of a <see cref="GuestSession"/>: userland, the session's files, its steps under /klp/steps.</summary>
    public static string BuildSession(GuestSession session, string busybox, string directory)
    {
        Directory.CreateDirectory(directory);
        var archive = new CpioArchive();
        AddUserland(archive, busybox);
        foreach (var file in session.Files)
        {
            var path = file.GuestPath.TrimStart('/');
            if (path.Length == 0 || path == "init" || path.Split('/').Contains(".."))
                throw new ArgumentException($"guest file path '{file.GuestPath}' must be a relative path inside the initramfs other than init");
            archive.AddFile(path, file.Content.ToArray(), file.Executable ? 0b111_101_101 : 0b110_100_100);
        }
        var steps = new List<string>();
        for (var i = 0; i < session.Steps.Count; i++)
        {
            var guest = $"klp/steps/{i:D2}.sh";
            archive.AddFile(guest, session.Steps[i] + "\n", 0b111_101_101);
            steps.Add("/" + guest);
        }
        archive.AddFile("init", GuestInitScript.GenerateSession(steps), 0b111_101_101);
        var initrd = System.IO.Path.Combine(directory, FileName);
        archive.WriteGzip(initrd);
        return initrd;
    }

    /// <summary>Adds busybox, its applet links and the directories every guest needs.</summary>
    public static void AddUserland(CpioArchive archive, string busybox)
    {
        foreach (var directory in new[] { "bin", "dev", "proc", "sys", "tmp", "root", "etc" })
            archive.AddDirectory(directory);
        archive.AddCharDevice("dev/console", 5, 1);
        archive.AddCharDevice("dev/null", 1, 3, 0b110_110_110);
        archive.AddFile("bin/busybox", File.ReadAllBytes(busybox), 0b111_101_101);
        foreach (var applet in BusyboxLocator.Applets(busybox))
            archive.AddSymlink("bin/" + applet, "busybox");
        archive.AddSymlink("sbin", "bin");
        archive.AddSymlink("usr/bin", "../bin");
        archive.AddSymlink("usr/sbin", "../bin");
    }
}
