using System.Text;

namespace Klp.Build.Vm;

/// <summary>Formats a <see cref="VmTestResult"/> as the proof a build prints.</summary>
public static class VmTranscript
{
    public static string Format(VmTestResult result)
    {
        var s = new StringBuilder();
        s.Append($"Livepatch proof: {result.PatchName} in {result.KernelImage}");
        if (result.Accelerator.Length > 0) s.Append($" (qemu {result.Accelerator}, {result.Duration.TotalSeconds:F1} s)");
        s.Append('\n');
        foreach (var check in result.Checks)
        {
            s.Append($"{(check.Passed ? "ok  " : "FAIL")} {check.Description}\n");
            foreach (var phase in VmPhases.All)
            {
                if (!check.Outputs.TryGetValue(phase, out var output)) continue;
                var label = $"{phase.Name()}:".PadRight(11);
                var exit = output.ExitCode == 0 ? "" : $" [exit {output.ExitCode}]";
                var lines = output.Output.TrimEnd('\n', '\r').Split('\n');
                s.Append($"     {label}{lines[0]}{exit}\n");
                foreach (var line in lines.Skip(1)) s.Append($"     {"",-11}{line}\n");
            }
        }
        foreach (var diagnostic in result.Diagnostics) s.Append(diagnostic).Append('\n');
        if (result.ConsoleLog is not null) s.Append($"console log: {result.ConsoleLog}\n");
        s.Append(result.Passed ? "result: passed\n" : "result: FAILED\n");
        return s.ToString();
    }
}
