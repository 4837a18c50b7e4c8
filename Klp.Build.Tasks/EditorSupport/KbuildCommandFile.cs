using System.Text.RegularExpressions;

namespace Klp.Build.EditorSupport;

/// <summary>
/// kbuild's record of how it built an object, the .&lt;object&gt;.cmd file beside it: its first line is
/// "cmd_&lt;object&gt; := &lt;command&gt;" (6.1) or "savedcmd_&lt;object&gt; := &lt;command&gt;" (6.3 and later), where
/// the compiler command may be followed by "; objtool ...". The same reading as the kernel's
/// scripts/clang-tools/gen_compile_commands.py.
/// </summary>
public static partial class KbuildCommandFile
{
    [GeneratedRegex(@"^(?:saved)?cmd_\S*\.o := (?<prefix>.* )(?<source>[^ ]*\.[cS]) *(?:;|$)")]
    private static partial Regex CompileLine();

    public sealed record Compilation(string CommandWithoutSource, string Source);

    /// <summary>The compilation the file records, or null when it records no C or assembler compilation (links, modpost).</summary>
    public static Compilation? Read(string cmdFile)
    {
        using var reader = new StreamReader(cmdFile);
        return Parse(reader.ReadLine() ?? "");
    }

    public static Compilation? Parse(string firstLine)
    {
        var match = CompileLine().Match(firstLine);
        return match.Success ? new Compilation(match.Groups["prefix"].Value.Trim(), match.Groups["source"].Value) : null;
    }
}
