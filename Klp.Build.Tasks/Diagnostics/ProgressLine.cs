using System.Globalization;

namespace Klp.Build.Diagnostics;

/// <summary>The one line a pipeline step prints with its time: "klp: compile 6.1.0-56-amd64 (…) 3.2 s".</summary>
public static class ProgressLine
{
    public static string Format(string step, string? release, string? detail, TimeSpan elapsed) =>
        $"klp: {step}" + (string.IsNullOrEmpty(release) ? "" : " " + release) + (string.IsNullOrEmpty(detail) ? "" : $" ({detail})") +
        " " + elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s";
}
