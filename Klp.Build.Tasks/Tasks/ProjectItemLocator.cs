using System.Text.RegularExpressions;

namespace Klp.Build.Tasks;

/// <summary>Finds the line of an item in the project file, so a diagnostic about it is clickable.</summary>
internal static class ProjectItemLocator
{
    public static int LineOf(string? projectFile, string itemType, string include)
    {
        if (projectFile is null || !File.Exists(projectFile)) return 0;
        var pattern = new Regex($@"<{Regex.Escape(itemType)}\s[^>]*Include\s*=\s*""{Regex.Escape(include)}""");
        var lines = File.ReadAllLines(projectFile);
        for (var i = 0; i < lines.Length; i++)
            if (pattern.IsMatch(lines[i])) return i + 1;
        return 0;
    }
}
