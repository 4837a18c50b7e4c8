using Klp.Build.Diagnostics;

namespace Klp.Build.Kernels;

/// <summary>
/// A target kernel's installed modules (lib/modules/R): finds a module by the name the kernel gives it and
/// the modules it needs loaded first, from modules.dep.
/// </summary>
public sealed class KernelModuleIndex
{
    private static readonly string[] Extensions = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];
    private readonly string _modulesDirectory;
    private readonly Dictionary<string, string> _pathsByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string>> _dependencies = new(StringComparer.Ordinal);

    public KernelModuleIndex(string modulesDirectory)
    {
        _modulesDirectory = modulesDirectory;
        var modulesDep = Path.Combine(modulesDirectory, "modules.dep");
        if (File.Exists(modulesDep))
        {
            foreach (var line in File.ReadLines(modulesDep))
            {
                var colon = line.IndexOf(':');
                if (colon <= 0) continue;
                var path = line[..colon];
                _pathsByName[NameOf(path)] = Path.Combine(modulesDirectory, path);
                _dependencies[NameOf(path)] = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(NameOf).ToList();
            }
        }
        else if (Directory.Exists(Path.Combine(modulesDirectory, "kernel")))
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(modulesDirectory, "kernel"), "*.ko*", SearchOption.AllDirectories))
                if (Extensions.Any(e => file.EndsWith(e, StringComparison.Ordinal)))
                    _pathsByName.TryAdd(NameOf(file), file);
        }
    }

    /// <summary>The kernel's name for a module file: base name without .ko[.xz|.zst], '-' as '_'.</summary>
    public static string NameOf(string path)
    {
        var name = Path.GetFileName(path);
        foreach (var extension in Extensions.OrderByDescending(e => e.Length))
            if (name.EndsWith(extension, StringComparison.Ordinal)) { name = name[..^extension.Length]; break; }
        return name.Replace('-', '_');
    }

    public IEnumerable<string> ModuleNames => _pathsByName.Keys;

    public string? Find(string moduleName) => _pathsByName.GetValueOrDefault(moduleName.Replace('-', '_'));

    /// <summary>The module and everything it needs, in load order (dependencies first).</summary>
    public IReadOnlyList<string> LoadOrder(string moduleName)
    {
        var order = new List<string>();
        Visit(moduleName.Replace('-', '_'), order, []);
        return order;
    }

    private void Visit(string name, List<string> order, HashSet<string> visiting)
    {
        if (order.Contains(_pathsByName.GetValueOrDefault(name) ?? "") || !visiting.Add(name)) return;
        var path = _pathsByName.GetValueOrDefault(name)
            ?? throw DiagnosticException.Error("KLP5009", $"module '{name}' is not among the target's modules in {_modulesDirectory}: check the Object name of the patched function (it is the module's name, as lsmod shows it).");
        foreach (var dependency in _dependencies.GetValueOrDefault(name) ?? []) Visit(dependency, order, visiting);
        order.Add(path);
    }
}
