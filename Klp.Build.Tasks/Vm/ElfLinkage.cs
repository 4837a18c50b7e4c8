namespace Klp.Build.Vm;

/// <summary>Tells a statically linked ELF executable (no PT_INTERP program header) from a dynamic one.</summary>
internal static class ElfLinkage
{
    private const uint PtInterp = 3;

    /// <summary>True when the file is an ELF executable without an interpreter; false when dynamic or not ELF.</summary>
    public static bool IsStaticExecutable(string file)
    {
        var bytes = File.ReadAllBytes(file);
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            return false;
        var is64 = bytes[4] == 2;
        var little = bytes[5] == 1;
        if (!little) return false; // x86-64 guests only
        long phoff = is64 ? (long)BitConverter.ToUInt64(bytes, 0x20) : BitConverter.ToUInt32(bytes, 0x1C);
        int phentsize = BitConverter.ToUInt16(bytes, is64 ? 0x36 : 0x2A);
        int phnum = BitConverter.ToUInt16(bytes, is64 ? 0x38 : 0x2C);
        if (phnum == 0) return false;
        for (var i = 0; i < phnum; i++)
        {
            var at = phoff + (long)i * phentsize;
            if (at + 4 > bytes.Length) return false;
            if (BitConverter.ToUInt32(bytes, (int)at) == PtInterp) return false;
        }
        return true;
    }
}
