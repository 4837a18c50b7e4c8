namespace Klp.Build.Registration;

/// <summary>One kernel function to replace: old_name in object (vmlinux or a module), new_func, old_sympos.</summary>
public sealed record PatchedFunction(string Name, string Replacement, string Object = PatchedFunction.Vmlinux, int Position = 0)
{
    public const string Vmlinux = "vmlinux";
}

public enum CallbackKind { PrePatch, PostPatch, PreUnpatch, PostUnpatch }

/// <summary>A klp_callbacks member: a function of the project called around (un)patching of one object.</summary>
public sealed record LivepatchCallback(string Function, CallbackKind Kind, string Object = PatchedFunction.Vmlinux);

/// <summary>Everything the generated registration (klp_patch, klp_objects, klp_funcs, init/exit) is made from.</summary>
public sealed record LivepatchDefinition(
    string ModuleName,
    IReadOnlyList<PatchedFunction> Functions,
    IReadOnlyList<LivepatchCallback> Callbacks,
    bool AtomicReplace = true,
    string? Description = null)
{
    /// <summary>Objects in first-mention order, vmlinux first when patched.</summary>
    public IReadOnlyList<string> Objects =>
        Functions.Select(f => f.Object).Concat(Callbacks.Select(c => c.Object)).Distinct()
            .OrderBy(o => o == PatchedFunction.Vmlinux ? 0 : 1).ToList();
}
