using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Klp.Build.Processes;

namespace Klp.Build.IpaClones;

/// <summary>
/// Compiles one translation unit of the kernel's source with the target's own kbuild flags plus
/// -fdump-ipa-clones, to see what GCC cloned and inlined there when it built the target.
/// </summary>
public static class IpaCloneCompiler
{
    public static IpaCloneDump? Compile(KernelTarget target, KbuildToolchain toolchain, KernelSourceTree source, string relativeSource,
        string workDirectory, DiagnosticBag diagnostics, CancellationToken cancellationToken = default)
    {
        var file = source.Require(relativeSource, cancellationToken);
        var name = Path.GetFileNameWithoutExtension(relativeSource).Replace('-', '_');
        var workspace = Path.Combine(workDirectory, name);
        if (Directory.Exists(workspace)) Directory.Delete(workspace, recursive: true);
        Directory.CreateDirectory(workspace);
        File.CreateSymbolicLink(Path.Combine(workspace, name + ".c"), file);
        var sourceDirectory = Path.GetDirectoryName(file)!;
        File.WriteAllText(Path.Combine(workspace, "Kbuild"),
            $"obj-m := {name}.o\n" +
            $"ccflags-y += -fdump-ipa-clones -I{sourceDirectory} -I{Path.GetDirectoryName(sourceDirectory)}\n");

        string[] arguments = ["-C", target.BuildDirectory, $"M={workspace}", $"ARCH={target.Architecture.Kbuild}",
            .. toolchain.CrossCompile.Length > 0 ? [$"CROSS_COMPILE={toolchain.CrossCompile}"] : Array.Empty<string>(), $"{name}.o"];
        var result = ProcessRunner.Run("make", arguments, workspace, new Dictionary<string, string?> { ["LC_ALL"] = "C" },
            TimeSpan.FromMinutes(10), cancellationToken);
        var dump = Directory.EnumerateFiles(workspace, "*.ipa-clones").FirstOrDefault();
        if (dump is null)
        {
            var error = result.StandardError.Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.Ordinal))?.Trim() ?? result.StandardError.Trim();
            diagnostics.Warning(IpaCloneCodes.CompileFailed,
                $"{relativeSource} of kernel {target.Release} did not compile out of tree with -fdump-ipa-clones ({error}): the deeper clone analysis is skipped for it.");
            return null;
        }
        return IpaCloneDump.Load(dump, diagnostics);
    }
}
