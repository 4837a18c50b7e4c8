namespace Klp.Build.Analysis;

/// <summary>One function a livepatch replaces.</summary>
/// <param name="Name">The symbol patched in the target object (may be a clone name such as foo.isra.0).</param>
/// <param name="Object">"vmlinux" or the module's name.</param>
/// <param name="Position">sympos: the N-th occurrence of the name (from 1, kallsyms order); 0 = the name is unique.</param>
/// <param name="ReplacementName">The replacement function's symbol in the patch module (null: not known).</param>
public sealed record PatchedFunctionRequest(string Name, string Object = "vmlinux", int Position = 0, string? ReplacementName = null)
{
    public override string ToString() => Position > 0 ? $"{Object}:{Name},{Position}" : $"{Object}:{Name}";
}
