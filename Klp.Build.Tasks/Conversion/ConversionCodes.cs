namespace Klp.Build.Conversion;

/// <summary>The diagnostic codes of the livepatch relocation converter (KLP3001–3004: ELF library, KLP3010: symbol map).</summary>
public static class ConversionCodes
{
    /// <summary>Module.symvers cannot be read or has a malformed line.</summary>
    public const string SymversInvalid = "KLP3011";

    /// <summary>A symbol name occurs more than once in its object and nothing says which occurrence (sympos) is meant.</summary>
    public const string Ambiguous = "KLP3020";

    /// <summary>An undefined, non-exported symbol is in no object of the symbol map (suggests clones and near names).</summary>
    public const string NotFound = "KLP3021";

    /// <summary>A symbol name is defined in several objects (vmlinux and modules) and nothing says which one is meant.</summary>
    public const string SeveralObjects = "KLP3022";

    /// <summary>A given object or position is wrong: unknown object, symbol not in it, position out of range, 0 for a repeated name.</summary>
    public const string InvalidPosition = "KLP3023";

    /// <summary>Two disambiguations of the same symbol (annotation, declaration, project item) disagree.</summary>
    public const string ConflictingPositions = "KLP3024";

    /// <summary>A .klp.sym / .klp.rela / .klp.module_relocs name the kernel cannot parse (object with '.', name with ',', too long...).</summary>
    public const string MalformedName = "KLP3025";

    /// <summary>A livepatch relocation section the kernel refuses: module-specific section using vmlinux symbols, non-livepatch symbols in it.</summary>
    public const string InvalidLivepatchSection = "KLP3026";

    /// <summary>A relocation to another object in a section that describes the patch module's own code (.altinstructions, __ex_table, __bug_table, .orc_unwind_ip...).</summary>
    public const string SiteTableRelocation = "KLP3027";

    /// <summary>A module symbol used in a section the kernel consumes when the patch loads (__jump_table, .static_call_sites, .altinstr_replacement, .init.*): the relocation would come too late.</summary>
    public const string LateRelocationInLoadTimeSection = "KLP3028";

    /// <summary>Warning: symbols of a module are resolved only when that module loads (late patching).</summary>
    public const string LateModuleSymbols = "KLP3029";

    /// <summary>Undefined symbols would remain that are neither exported nor converted: the kernel would refuse the module ("Unknown symbol").</summary>
    public const string UnresolvedSymbols = "KLP3030";

    /// <summary>A KLP_MODULE_RELOC annotation section is malformed (entry size, missing symbol, symbol defined by the patch itself).</summary>
    public const string MalformedAnnotation = "KLP3031";

    /// <summary>The module cannot be converted: SHT_REL relocations (livepatch relocations need addends), no symbol table.</summary>
    public const string UnsupportedModule = "KLP3032";

    /// <summary>Warning: a project-provided position names a symbol the module does not use.</summary>
    public const string UnusedPosition = "KLP3033";

    /// <summary>Command line misuse of klp-convert (arguments, unreadable input).</summary>
    public const string CommandLine = "KLP3039";
}
