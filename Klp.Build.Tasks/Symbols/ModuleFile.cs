using System.Diagnostics;
using System.IO.Compression;
using Klp.Build.Processes;

namespace Klp.Build.Symbols;

/// <summary>The bytes of a kernel module file: .ko as it is, .ko.gz in process, .ko.xz and .ko.zst through xz/zstd.</summary>
internal static class ModuleFile
{
    public static readonly string[] Extensions = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];

    public static bool IsModule(string path) => Extensions.Any(e => path.EndsWith(e, StringComparison.Ordinal));

    /// <summary>The uncompressed module, or an error message.</summary>
    public static (byte[]? Data, string? Error) Read(string path)
    {
        try
        {
            if (path.EndsWith(".ko", StringComparison.Ordinal)) return (File.ReadAllBytes(path), null);
            if (path.EndsWith(".gz", StringComparison.Ordinal))
            {
                using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
                using var output = new MemoryStream();
                input.CopyTo(output);
                return (output.ToArray(), null);
            }
            var tool = path.EndsWith(".xz", StringComparison.Ordinal) ? "xz" : "zstd";
            return Decompress(tool, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return (null, e.Message);
        }
    }

    private static (byte[]?, string?) Decompress(string tool, string path)
    {
        var program = ProcessRunner.FindOnPath(tool);
        if (program is null)
            return (null, $"{tool} is not installed: it is needed to read {Path.GetFileName(path)} (install the '{(tool == "xz" ? "xz-utils" : "zstd")}' package)");
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-dc", "--", path }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        using var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        return process.ExitCode == 0 ? (output.ToArray(), null) : (null, $"{tool} -dc failed: {error.Result.Trim()}");
    }
}
