using System.Diagnostics;
using System.IO.Compression;
using Klp.Build.Processes;

namespace Klp.Build.Symbols;

/// <summary>The bytes of a kernel module file: .ko as it is, .ko.gz in process, .ko.xz and .ko.zst through xz/zstd.</summary>
public static class ModuleFile
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

    /// <summary>
    /// The uncompressed size an .xz file records in its index (single stream), or null when it cannot be told
    /// for sure. Lets one xz process decompress many modules, its output cut by these sizes.
    /// </summary>
    public static long? XzUncompressedSize(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path);
            var length = RandomAccess.GetLength(handle);
            if (length < 32) return null;
            var tail = new byte[(int)Math.Min(length, 4096)];
            if (RandomAccess.Read(handle, tail, length - tail.Length) != tail.Length) return null;
            var end = tail.Length;
            while (end >= 4 && tail[end - 1] == 0 && tail[end - 2] == 0 && tail[end - 3] == 0 && tail[end - 4] == 0) end -= 4; // stream padding
            if (end < 12 || tail[end - 2] != (byte)'Y' || tail[end - 1] != (byte)'Z') return null;
            var indexSize = ((long)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end - 8)) + 1) * 4;
            var indexStart = end - 12 - indexSize;
            if (indexStart < 0 || tail[indexStart] != 0) return null;
            var at = (int)indexStart + 1;
            bool Varint(out long value)
            {
                value = 0;
                for (var shift = 0; shift < 63 && at < end; shift += 7)
                {
                    var b = tail[at++];
                    value |= (long)(b & 0x7f) << shift;
                    if ((b & 0x80) == 0) return true;
                }
                return false;
            }
            if (!Varint(out var records)) return null;
            long uncompressed = 0, blocks = 0;
            for (var i = 0; i < records; i++)
            {
                if (!Varint(out var unpadded) || !Varint(out var size)) return null;
                blocks += (unpadded + 3) & ~3L;
                uncompressed += size;
            }
            // One stream exactly: header + blocks + index + footer is the whole file (before padding).
            var streamLength = 12 + blocks + indexSize + 12;
            return streamLength == length - (tail.Length - end) ? uncompressed : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Decompresses several .xz files with one xz process, handing each file's bytes (or an error) to
    /// <paramref name="onFile"/> as they arrive. Every size must come from <see cref="XzUncompressedSize"/>.
    /// </summary>
    public static void ReadXzBatch(IReadOnlyList<string> paths, IReadOnlyList<long> sizes, Action<int, byte[]?, string?> onFile)
    {
        var program = ProcessRunner.FindOnPath("xz");
        if (program is null)
        {
            for (var i = 0; i < paths.Count; i++) onFile(i, null, $"xz is not installed: it is needed to read {Path.GetFileName(paths[i])} (install the 'xz-utils' package)");
            return;
        }
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-dc");
        start.ArgumentList.Add("--");
        foreach (var path in paths) start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.BaseStream;
        var files = new byte[paths.Count][];
        var complete = true;
        for (var i = 0; i < paths.Count && complete; i++)
        {
            files[i] = GC.AllocateUninitializedArray<byte>((int)sizes[i]);
            complete = output.ReadAtLeast(files[i], files[i].Length, throwOnEndOfStream: false) == files[i].Length;
        }
        output.CopyTo(Stream.Null);
        process.WaitForExit();
        if (complete && process.ExitCode == 0)
        {
            for (var i = 0; i < paths.Count; i++) onFile(i, files[i], null);
            return;
        }
        // xz goes on after a file it cannot read, so the output no longer lines up: read the batch one by one.
        _ = error.Result;
        for (var i = 0; i < paths.Count; i++)
        {
            var (data, message) = Read(paths[i]);
            onFile(i, data, message);
        }
    }
}
