using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Klp.Build.Kbuild;

namespace Klp.Build.EditorSupport;

/// <summary>
/// The compile_commands.json of a project's kbuild workspace: one entry per project source kbuild compiled,
/// pointing at the project's own file (not kbuild's mirror of it under src/), so that an editor's clangd opens
/// and indexes what the user edits with the target kernel's exact include paths, config and defines.
/// </summary>
public static class CompilationDatabase
{
    public const string FileName = "compile_commands.json";

    /// <summary>Reads every .*.o.cmd under the workspace's src/ whose source is still mirrored from the project.</summary>
    public static IReadOnlyList<CompileCommand> FromWorkspace(KbuildWorkspace workspace, string kernelBuildDirectory)
    {
        if (!Directory.Exists(workspace.SourceDirectory)) return [];
        var directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(kernelBuildDirectory));
        var commands = new List<CompileCommand>();
        foreach (var cmdFile in Directory.EnumerateFiles(workspace.SourceDirectory, ".*.o.cmd", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var compilation = KbuildCommandFile.Read(cmdFile);
            if (compilation is null) continue;
            var mirrored = Path.GetFullPath(compilation.Source, directory);
            // A source removed from the project leaves kbuild's .cmd behind, but not its link.
            var projectFile = ProjectFileOf(mirrored);
            if (projectFile is null) continue;
            commands.Add(new CompileCommand(directory, projectFile, $"{compilation.CommandWithoutSource} {projectFile}"));
        }
        return commands;
    }

    private static string? ProjectFileOf(string mirrored)
    {
        var link = new FileInfo(mirrored);
        if (link.LinkTarget is null) return null;
        var target = link.ResolveLinkTarget(returnFinalTarget: true);
        return target is { Exists: true } ? target.FullName : null;
    }

    public static string ToJson(IReadOnlyList<CompileCommand> commands)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var command in commands)
            {
                json.WriteStartObject();
                json.WriteString("directory", command.Directory);
                json.WriteString("file", command.File);
                json.WriteString("command", command.Command);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
