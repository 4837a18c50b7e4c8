using System.Text.RegularExpressions;

namespace Klp.Build.Vm;

/// <summary>A kernel splat found in a log: the trigger line and the lines around it.</summary>
public sealed record KernelLogFinding(string Source, int LineNumber, string Trigger, string Excerpt)
{
    public override string ToString() => $"{Source}:{LineNumber}: {Trigger}\n{Excerpt}";
}

/// <summary>Finds kernel WARN/BUG/Oops/panic reports (and bare call traces) in console logs and dmesg dumps.</summary>
public static partial class KernelLogScanner
{
    public static readonly string[] Triggers =
        ["WARNING:", "BUG:", "Oops", "general protection fault", "Kernel panic", "Call Trace:"];

    private const int LinesBefore = 3;
    private const int MaxLinesAfter = 40;

    [GeneratedRegex(@"^\s*\[\s*\d+\.\d+\]\s?")]
    private static partial Regex Timestamp();

    /// <summary>Strips the "[    1.234567] " prefix printk adds.</summary>
    public static string WithoutTimestamp(string line) => Timestamp().Replace(line.TrimEnd('\r'), "");

    public static IReadOnlyList<KernelLogFinding> Scan(string text, string source)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var findings = new List<KernelLogFinding>();
        var i = 0;
        while (i < lines.Length)
        {
            var trigger = Trigger(lines[i]);
            if (trigger is null) { i++; continue; }
            var start = Math.Max(0, i - LinesBefore);
            var end = i + 1;
            while (end < lines.Length && end - i < MaxLinesAfter)
            {
                var body = WithoutTimestamp(lines[end]);
                end++;
                if (body.StartsWith("---[ end", StringComparison.Ordinal)) break;
            }
            findings.Add(new KernelLogFinding(source, i + 1, WithoutTimestamp(lines[i]).Trim(),
                string.Join('\n', lines[start..end])));
            i = end;
        }
        return findings;
    }

    /// <summary>Scans several logs, dropping findings whose trigger line (without timestamp) was already reported.</summary>
    public static IReadOnlyList<KernelLogFinding> Scan(params (string Text, string Source)[] logs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<KernelLogFinding>();
        foreach (var (text, source) in logs)
            foreach (var finding in Scan(text, source))
                if (seen.Add(finding.Trigger)) result.Add(finding);
        return result;
    }

    private static string? Trigger(string line)
    {
        var body = WithoutTimestamp(line);
        foreach (var trigger in Triggers)
            if (body.Contains(trigger, StringComparison.Ordinal)) return trigger;
        return null;
    }
}
