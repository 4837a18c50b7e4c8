using System.Text;

namespace Klp.Build.Dwarf;

/// <summary>
/// Reads the file name table of a unit's line program header (.debug_line, versions 2 to 5): the names that
/// DW_AT_decl_file and DW_AT_call_file number. Names are given relative to the unit's compilation directory
/// when they are there ("fs/proc/meminfo.c", "include/linux/seq_file.h"), absolute otherwise.
/// </summary>
internal static class DwarfLineTable
{
    private const int LnctPath = 1, LnctDirectoryIndex = 2;

    public static string[] ReadFileNames(DwarfFile file, DwarfUnit unit, ulong offset)
    {
        var c = new DwarfCursor(file.Sections.Line.Span, file.BigEndian, ".debug_line");
        c.Seek(offset);
        ulong length = c.U32();
        var offsetSize = 4;
        if (length == 0xffffffff)
        {
            length = c.U64();
            offsetSize = 8;
        }
        if (length > (ulong)c.Remaining) throw new DwarfFormatException(DwarfCodes.MalformedLineTable, $"the line table is 0x{length:x} bytes long, past the end of .debug_line");
        var version = c.U16();
        if (version is < 2 or > 5) throw new DwarfFormatException(DwarfCodes.MalformedLineTable, $"line table version {version} is not one this reader knows");
        var addressSize = unit.AddressSize;
        if (version >= 5)
        {
            addressSize = c.U8();
            c.U8(); // segment selector size
        }
        var headerLength = c.Sized(offsetSize);
        var programStart = (ulong)c.Position + headerLength;
        c.U8(); // minimum_instruction_length
        if (version >= 4) c.U8(); // maximum_operations_per_instruction
        c.U8(); // default_is_stmt
        c.U8(); // line_base
        c.U8(); // line_range
        var opcodeBase = c.U8();
        if (opcodeBase > 0) c.Skip((ulong)(opcodeBase - 1));

        // A unit with a different offset size in .debug_line: read its strp forms with the line table's size.
        var lineUnit = offsetSize == unit.OffsetSize && addressSize == unit.AddressSize ? unit : new DwarfUnit
        {
            Offset = unit.Offset, End = unit.End, Version = unit.Version, AddressSize = addressSize is 2 or 4 or 8 ? addressSize : unit.AddressSize,
            OffsetSize = offsetSize, StrOffsetsBase = unit.StrOffsetsBase, AddrBase = unit.AddrBase,
        };
        var directories = new List<string>();
        var files = new List<string>();
        if (version >= 5)
        {
            directories.AddRange(ReadEntries(file, lineUnit, ref c, programStart, unit.CompDir, directories, isFiles: false));
            files.AddRange(ReadEntries(file, lineUnit, ref c, programStart, unit.CompDir, directories, isFiles: true));
        }
        else
        {
            directories.Add(unit.CompDir);
            while (true)
            {
                var start = c.SkipCString();
                if (c.Position - start == 1) break;
                directories.Add(Decode(c.Slice(start, c.Position - start - 1)));
            }
            files.Add(""); // file numbers start at 1
            while (true)
            {
                var start = c.SkipCString();
                if (c.Position - start == 1) break;
                var name = Decode(c.Slice(start, c.Position - start - 1));
                var dir = c.Uleb();
                c.Uleb();
                c.Uleb();
                files.Add(Join(directories, dir, name));
            }
        }
        return files.ToArray();
    }

    private static List<string> ReadEntries(DwarfFile file, DwarfUnit unit, ref DwarfCursor c, ulong limit, string compDir, List<string> directories, bool isFiles)
    {
        int formatCount = c.U8();
        Span<(ulong Type, ushort Form)> format = stackalloc (ulong, ushort)[formatCount];
        for (var i = 0; i < formatCount; i++)
        {
            var type = c.Uleb();
            var form = c.Uleb();
            if (form > ushort.MaxValue) throw new DwarfFormatException(DwarfCodes.UnknownForm, $"line table entry format uses form 0x{form:x}");
            format[i] = (type, (ushort)form);
        }
        var count = c.Uleb();
        if (count > (ulong)c.Remaining) throw new DwarfFormatException(DwarfCodes.MalformedLineTable, $"the line table lists {count} entries, more than its bytes can hold");
        var result = new List<string>((int)count);
        for (ulong n = 0; n < count; n++)
        {
            string path = "";
            ulong dir = 0;
            foreach (var (type, form) in format)
            {
                var v = DwarfFile.ReadValue(ref c, unit, form, 0);
                if (type == LnctPath)
                {
                    if (form == DwForm.String) path = Decode(c.Slice((int)v.U, c.Position - (int)v.U - 1));
                    else path = file.String(unit, v) ?? "";
                }
                else if (type == LnctDirectoryIndex) dir = v.U;
            }
            if ((ulong)c.Position > limit) throw new DwarfFormatException(DwarfCodes.MalformedLineTable, "the file name table runs past the header");
            result.Add(isFiles ? Join(directories, dir, path) : n == 0 && path.Length == 0 ? compDir : path);
        }
        return result;
    }

    private static string Join(List<string> directories, ulong dir, string name)
    {
        if (name.StartsWith('/')) return Normalize(name);
        if (dir == 0 || dir >= (ulong)directories.Count) return Normalize(name);
        var directory = directories[(int)dir];
        if (directory.Length == 0) return Normalize(name);
        if (directories.Count > 0 && directory == directories[0]) return Normalize(name); // the compilation directory itself
        if (directories[0].Length > 0 && directory.StartsWith(directories[0] + "/", StringComparison.Ordinal))
            directory = directory[(directories[0].Length + 1)..];
        return Normalize(directory + "/" + name);
    }

    private static string Normalize(string path)
    {
        while (path.StartsWith("./", StringComparison.Ordinal)) path = path[2..];
        return path.Contains("/./", StringComparison.Ordinal) ? path.Replace("/./", "/") : path;
    }

    private static string Decode(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
