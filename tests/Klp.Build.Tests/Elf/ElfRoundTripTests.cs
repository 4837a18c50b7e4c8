using System.Collections.Concurrent;
using System.Diagnostics;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Tests.Support;
using Xunit.Abstractions;

namespace Klp.Build.Tests.Elf;

public sealed class ElfRoundTripTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryModuleOfTheNewest61ImageRoundTripsByteIdentical()
    {
        var release = TestKernels.NewestRelease("6.1");
        var root = Path.Combine(TestKernels.ImageRoot(release), "lib", "modules", release, "kernel");
        var modules = Directory.GetFiles(root, "*.ko", SearchOption.AllDirectories);
        modules.Length.ShouldBeGreaterThan(3000);

        var failures = new ConcurrentQueue<string>();
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        Parallel.ForEach(modules, path =>
        {
            var original = File.ReadAllBytes(path);
            Interlocked.Add(ref bytes, original.Length);
            var diagnostics = new DiagnosticBag();
            var file = ElfReader.Read(original, path, diagnostics);
            if (file is null)
            {
                failures.Enqueue(string.Join("; ", diagnostics.Items));
                return;
            }
            var written = ElfWriter.ToBytes(file, diagnostics);
            if (written is null) failures.Enqueue(string.Join("; ", diagnostics.Items));
            else if (!written.AsSpan().SequenceEqual(original)) failures.Enqueue($"{path}: {FirstDifference(original, written)}");
        });
        output.WriteLine($"{modules.Length} modules, {bytes / 1048576} MiB, round trip in {clock.ElapsedMilliseconds} ms");
        failures.Take(20).ShouldBeEmpty();
    }

    [Fact]
    public void DebugVmlinuxRoundTripsByteIdentical()
    {
        var release = TestKernels.NewestRelease("6.1");
        var path = TestKernels.DebugVmlinux(release);
        var clock = Stopwatch.StartNew();
        var original = File.ReadAllBytes(path);
        var diagnostics = new DiagnosticBag();
        var file = ElfReader.Read(original, path, diagnostics);
        diagnostics.Items.ShouldBeEmpty();
        file.ShouldNotBeNull();
        var read = clock.ElapsedMilliseconds;
        file.ProgramHeaders.ShouldNotBeEmpty();
        file.SymbolTable.ShouldNotBeNull().Symbols.Count.ShouldBeGreaterThan(100_000);

        using var compare = new ComparingStream(original);
        ElfWriter.Write(file, compare, diagnostics).ShouldBeTrue();
        compare.Length.ShouldBe(original.Length);
        compare.FirstMismatch.ShouldBe(-1);
        output.WriteLine($"vmlinux {original.Length / 1048576} MiB, {file.Sections.Count} sections, {file.SymbolTable!.Symbols.Count} symbols: read {read} ms, read+write {clock.ElapsedMilliseconds} ms");
    }

    internal static string FirstDifference(byte[] expected, byte[] actual)
    {
        var n = Math.Min(expected.Length, actual.Length);
        for (var i = 0; i < n; i++)
            if (expected[i] != actual[i]) return $"first difference at 0x{i:x} (expected 0x{expected[i]:x2}, got 0x{actual[i]:x2}); lengths {expected.Length} / {actual.Length}";
        return $"lengths differ: expected {expected.Length}, got {actual.Length}";
    }
}

/// <summary>A write-only seekable stream that compares what is written with the expected bytes, without keeping a copy.</summary>
internal sealed class ComparingStream(byte[] expected) : Stream
{
    private long _position;
    private long _length;

    public long FirstMismatch { get; private set; } = -1;

    public override bool CanRead => false;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (FirstMismatch < 0)
        {
            var available = (int)Math.Max(0, Math.Min(buffer.Length, expected.Length - _position));
            var same = _position <= expected.Length ? buffer[..available].CommonPrefixLength(expected.AsSpan((int)_position, available)) : 0;
            if (same < buffer.Length) FirstMismatch = _position + same;
        }
        _position += buffer.Length;
        _length = Math.Max(_length, _position);
    }

    public override long Seek(long offset, SeekOrigin origin) =>
        _position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => _length + offset };

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void SetLength(long value) => _length = value;
}
