namespace Klp.Build.IpaClones;

public static class IpaCloneCodes
{
    /// <summary>A line of a -fdump-ipa-clones file that gcc does not write.</summary>
    public const string MalformedDump = "KLP4201";

    /// <summary>No usable kernel source (KernelSourceDir wrong, file missing, not a Debian package).</summary>
    public const string SourceUnavailable = "KLP4202";

    /// <summary>The translation unit did not compile out of tree: the deeper analysis is skipped for it.</summary>
    public const string CompileFailed = "KLP4203";

    /// <summary>GCC's clone and inlining graph shows more functions the patch must cover.</summary>
    public const string MustAlsoPatch = "KLP4204";
}
