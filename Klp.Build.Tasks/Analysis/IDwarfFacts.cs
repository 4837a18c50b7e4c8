namespace Klp.Build.Analysis;

/// <summary>
/// The seam for the checks that need DWARF (the target's -dbg vmlinux/modules and the patch module's own debug
/// info): absent-from-object with the functions holding inlined copies (KLP4101), inlined into some callers
/// (KLP4102), a replacement's prototype against the original's (KLP4112) or against a clone's actual
/// parameters (KLP4104). The binary analysis calls it; <see cref="NullDwarfFacts"/> answers "unknown".
/// </summary>
public interface IDwarfFacts
{
    /// <summary>Functions (names, e.g. "meminfo_proc_show") of the object that contain an inlined copy of the function; null when unknown.</summary>
    IReadOnlyList<string>? InlinedInto(string objectName, string function);

    /// <summary>Checks a replacement's prototype against the patched function (or clone) and reports KLP4112/KLP4104 findings.</summary>
    IReadOnlyList<SafetyFinding> CheckPrototype(PrototypeCheck check);
}

/// <summary>
/// One prototype comparison: the patched symbol in the target object (for a clone, e.g. foo.isra.0, DWARF
/// describes the clone's actual parameters through DW_AT_abstract_origin / its own formal parameters) and the
/// replacement in the patch module. <paramref name="IsClone"/>: the patched name is a GCC clone;
/// <paramref name="Address"/>: where the patched symbol's code starts in the target object.
/// </summary>
public sealed record PrototypeCheck(PatchedFunctionRequest Request, string OriginalFunction, bool IsClone, Elf.ElfFile? PatchModule, ulong Address = 0);

/// <summary>No DWARF: every DWARF-based check is silent.</summary>
public sealed class NullDwarfFacts : IDwarfFacts
{
    public static NullDwarfFacts Instance { get; } = new();

    public IReadOnlyList<string>? InlinedInto(string objectName, string function) => null;

    public IReadOnlyList<SafetyFinding> CheckPrototype(PrototypeCheck check) => [];
}
