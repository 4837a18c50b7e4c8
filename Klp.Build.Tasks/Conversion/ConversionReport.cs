namespace Klp.Build.Conversion;

/// <summary>One relocation moved into a livepatch relocation section.</summary>
/// <param name="Section">The .klp.rela.&lt;object&gt;.&lt;section&gt; section that holds it now.</param>
/// <param name="PatchedSection">The section it patches (sh_info).</param>
/// <param name="OriginalSymbol">The name the module used (undefined symbol or asm-label name).</param>
public sealed record ConvertedRelocation(string Section, string PatchedSection, ulong Offset, uint Type, long Addend, LivepatchTarget Target, string OriginalSymbol);

/// <summary>What a conversion did: the relocations it moved and the livepatch symbols it made.</summary>
public sealed class ConversionReport
{
    public bool Succeeded { get; init; }

    public IReadOnlyList<ConvertedRelocation> Relocations { get; init; } = [];

    /// <summary>The livepatch symbols relocations now use, in symbol table order.</summary>
    public IReadOnlyList<LivepatchTarget> Symbols { get; init; } = [];

    /// <summary>Sections removed: annotation sections and ordinary relocation sections left empty.</summary>
    public IReadOnlyList<string> RemovedSections { get; init; } = [];

    public static ConversionReport Failed => new() { Succeeded = false };
}
