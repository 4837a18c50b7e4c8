using Klp.Build.Diagnostics;
using Klp.Build.Processes;

namespace Klp.Build.Vm;

/// <summary>Finds the statically linked busybox (Debian package busybox-static) that the guest runs as its userland.</summary>
public static class BusyboxLocator
{
    public static readonly string[] DefaultCandidates = ["/bin/busybox", "/usr/bin/busybox", "/usr/local/bin/busybox"];

    /// <summary>The busybox path, or null with a KLP5002 diagnostic when none or only a dynamic one exists.</summary>
    public static string? Find(DiagnosticBag diagnostics, string? explicitPath = null)
    {
        var candidates = explicitPath is not null ? [explicitPath] : DefaultCandidates;
        var dynamic = new List<string>();
        foreach (var candidate in candidates)
        {
            if (!File.Exists(candidate)) continue;
            if (ElfLinkage.IsStaticExecutable(candidate)) return candidate;
            dynamic.Add(candidate);
        }
        var message = dynamic.Count > 0
            ? $"busybox at {string.Join(", ", dynamic)} is dynamically linked and cannot run as the guest's userland: " +
              "install busybox-static (apt-get install busybox-static)"
            : $"busybox-static is not installed (looked for {string.Join(", ", candidates)}): apt-get install busybox-static";
        diagnostics.Error("KLP5002", message, explicitPath);
        return null;
    }

    /// <summary>The applets the busybox binary provides (from `busybox --list`).</summary>
    public static IReadOnlyList<string> Applets(string busybox)
    {
        var run = ProcessRunner.Run(busybox, ["--list"]);
        if (!run.Succeeded) throw new InvalidOperationException($"{busybox} --list failed: {run.StandardError}");
        return [.. run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(name => name != "busybox" && !name.Contains('/') && name is not ("[" or "[["))
            .Order(StringComparer.Ordinal)];
    }
}
