using System.Diagnostics;
using System.IO.Compression;

namespace Klp.Build.Vm;

/// <summary>Reads kernel modules as the guest's insmod needs them: decompresses .ko.xz / .ko.zst / .ko.gz on the host.</summary>
public static class ModuleFiles
{
    /// <summary>"ext4.ko.xz" → "ext4.ko".</summary>
    public static string UncompressedName(string path)
    {
        var name = Path.GetFileName(path);
        foreach (var suffix in new[] { ".xz", ".zst", ".gz" })
            if (name.EndsWith(".ko" + suffix, StringComparison.Ordinal)) return name[..^suffix.Length];
        return name;
    }

    /// <summary>The module name the kernel uses: file name without .ko, '-' → '_'.</summary>
    public static string ModuleName(string path)
    {
        var name = UncompressedName(path);
        if (name.EndsWith(".ko", StringComparison.Ordinal)) name = name[..^3];
        return name.Replace('-', '_');
    }

    public static byte[] ReadDecompressed(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"kernel module {path} does not exist", path);
        if (path.EndsWith(".xz", StringComparison.Ordinal)) return RunDecompressor("xz", path);
        if (path.EndsWith(".zst", StringComparison.Ordinal)) return RunDecompressor("zstd", path);
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var memory = new MemoryStream();
            input.CopyTo(memory);
            return memory.ToArray();
        }
        return File.ReadAllBytes(path);
    }

    private static byte[] RunDecompressor(string tool, string path)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-dc");
        start.ArgumentList.Add(path);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {tool}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot decompress {path}: {tool} is not installed ({e.Message})", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            using var memory = new MemoryStream();
            process.StandardOutput.BaseStream.CopyTo(memory);
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{tool} -dc {path} failed ({process.ExitCode}): {stderr.Result.Trim()}");
            return memory.ToArray();
        }
    }
}
