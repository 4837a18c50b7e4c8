namespace Klp.Build.Analysis;

/// <summary>
/// The diagnostic codes of the patch safety analysis (KLP41xx). Each names what the binary shows and what the
/// patch author must do. Codes marked DWARF are reported by an <see cref="IDwarfFacts"/> implementation.
/// </summary>
public static class SafetyCodes
{
    /// <summary>Error: the patched function has no symbol in its object (fully inlined into its callers, or removed as dead code); patch the functions that contain its inlined copies instead.</summary>
    public const string NotInObject = "KLP4101";

    /// <summary>Warning (DWARF): the function has an out-of-line copy but is also inlined into some callers, whose copies stay old unless they are patched too.</summary>
    public const string InlinedIntoCallers = "KLP4102";

    /// <summary>Warning: GCC made clones of the function (.isra/.constprop/.part/.cold); callers reach the clones, not the patched symbol: the patch must cover them.</summary>
    public const string Clones = "KLP4103";

    /// <summary>Error (DWARF): a replacement patched onto a clone does not take that clone's actual parameters (IPA-SRA/IPA-CP changed them).</summary>
    public const string ClonePrototypeMismatch = "KLP4104";

    /// <summary>Warning: other functions share the patched function's code (IPA-ICF aliases at the same address, or thunks that only jump to it): patching one changes them all.</summary>
    public const string IdenticalCodeFolding = "KLP4105";

    /// <summary>Error: the function has no ftrace (fentry) call site in the object's mcount table (notrace, noinstr, __init...): livepatch cannot redirect it.</summary>
    public const string NotPatchableFtrace = "KLP4106";

    /// <summary>Error: the name occurs more than once in the object and the request gives no position (sympos).</summary>
    public const string Ambiguous = "KLP4107";

    /// <summary>Error: the position (sympos) given is beyond the occurrences of the name in the object.</summary>
    public const string InvalidPosition = "KLP4108";

    /// <summary>Error: callers rely on IPA-RA (read a call-clobbered register the original leaves intact) and the replacement clobbers it.</summary>
    public const string IpaRaClobber = "KLP4109";

    /// <summary>Warning: callers rely on IPA-RA for some registers and no replacement body was given to check: the replacement must leave them intact.</summary>
    public const string IpaRaReliance = "KLP4110";

    /// <summary>Warning: the original neither writes memory nor calls anything (GCC may treat it as pure/const and drop or merge calls) and the replacement does.</summary>
    public const string PurityChange = "KLP4111";

    /// <summary>Error (DWARF): the replacement's prototype (parameters, return type) differs from the patched function's.</summary>
    public const string PrototypeMismatch = "KLP4112";

    /// <summary>Error: the function cannot be replaced safely (tasks sleep in it forever, it switches stacks, never returns, or is livepatch/ftrace machinery).</summary>
    public const string UnsafeToReplace = "KLP4113";

    /// <summary>Warning: part of the analysis could not run (replacement not in the patch module, unreadable code, architecture not supported).</summary>
    public const string AnalysisIncomplete = "KLP4119";
}
