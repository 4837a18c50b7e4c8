namespace Klp.Build.EditorSupport;

/// <summary>
/// One entry of a JSON compilation database (clang's compile_commands.json): the compiler command exactly as
/// kbuild ran it, the directory it ran in (relative -I paths are relative to it), and the file it compiled.
/// </summary>
public sealed record CompileCommand(string Directory, string File, string Command);
