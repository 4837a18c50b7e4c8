namespace Klp.Build.Dwarf;

/// <summary>Diagnostic codes of the DWARF reader and index (KLP40xx).</summary>
public static class DwarfCodes
{
    /// <summary>A unit header is malformed (length, version, address size) or runs past its section.</summary>
    public const string MalformedUnit = "KLP4001";

    /// <summary>A DIE uses an abbreviation code its unit's abbreviation table does not define, or the table is malformed.</summary>
    public const string BadAbbreviation = "KLP4002";

    /// <summary>An attribute value (string, reference, range list, address index...) points outside its section.</summary>
    public const string OffsetOutOfRange = "KLP4003";

    /// <summary>An attribute uses a form this reader does not know.</summary>
    public const string UnknownForm = "KLP4004";

    /// <summary>The file has no .debug_info: it was built without -g, or stripped.</summary>
    public const string NoDebugInfo = "KLP4005";

    /// <summary>The file could not be read, is not ELF, or its section headers are malformed.</summary>
    public const string UnreadableFile = "KLP4006";

    /// <summary>A relocation of a .debug_* section of a relocatable object could not be applied.</summary>
    public const string BadRelocation = "KLP4007";

    /// <summary>A line table header (.debug_line) is malformed; file names of that unit are unknown.</summary>
    public const string MalformedLineTable = "KLP4008";

    /// <summary>A debug section is compressed in a way this reader does not support.</summary>
    public const string UnsupportedCompression = "KLP4009";

    /// <summary>The cached DWARF index was damaged or unreadable and is made again.</summary>
    public const string DamagedCache = "KLP4010";

    /// <summary>More problems than are worth reporting one by one were found in one file.</summary>
    public const string TooManyProblems = "KLP4011";
}
