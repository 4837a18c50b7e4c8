using System.Buffers.Binary;
using System.Text;
using Iced.Intel;
using Decoder = Iced.Intel.Decoder;

namespace Klp.Build.Analysis;

public enum CallKind : byte { Call = 0, Jump = 1, ConditionalJump = 2 }

/// <summary>A direct branch into other code: a call, or a jump leaving its function (tail call, jump to a .cold part, thunk).</summary>
public readonly record struct CallSite(ulong Site, ulong Target, CallKind Kind);

/// <summary>
/// Every direct call (and every direct jump that leaves its function) of an object, found by disassembling its
/// executable sections with Iced, indexed by target. Made once per kernel (<see cref="CallersIndexCache"/>).
/// </summary>
public sealed class CallersIndex
{
    private const string Magic = "KLPCALL1";
    private readonly ulong[] _targets;
    private readonly ulong[] _sites;
    private readonly byte[] _kinds;

    private CallersIndex(ulong[] targets, ulong[] sites, byte[] kinds)
    {
        _targets = targets;
        _sites = sites;
        _kinds = kinds;
    }

    public int Count => _targets.Length;

    /// <summary>The direct calls and jumps into an address, in site order.</summary>
    public IReadOnlyList<CallSite> CallsTo(ulong target)
    {
        var i = Array.BinarySearch(_targets, target);
        if (i < 0) return [];
        while (i > 0 && _targets[i - 1] == target) i--;
        var result = new List<CallSite>();
        for (; i < _targets.Length && _targets[i] == target; i++) result.Add(new CallSite(_sites[i], target, (CallKind)_kinds[i]));
        return result;
    }

    /// <summary>Disassembles every executable region, from each function start to the next (linear sweep between them).</summary>
    public static CallersIndex Build(ObjectCode code, CancellationToken cancellationToken = default)
    {
        var found = new List<CallSite>(1 << 20);
        var starts = code.Functions.Select(f => f.Address).Distinct().ToArray(); // sorted
        foreach (var (regionStart, bytes, _) in code.Regions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var regionEnd = regionStart + (ulong)bytes.Length;
            var i = Array.BinarySearch(starts, regionStart);
            if (i < 0) i = ~i;
            var segmentStart = regionStart;
            while (segmentStart < regionEnd)
            {
                var segmentEnd = i < starts.Length && starts[i] < regionEnd ? starts[i] : regionEnd;
                if (segmentEnd == segmentStart)
                {
                    i++;
                    continue;
                }
                Sweep(bytes, regionStart, segmentStart, segmentEnd, found);
                segmentStart = segmentEnd;
            }
        }
        found.Sort((a, b) => a.Target != b.Target ? a.Target.CompareTo(b.Target) : a.Site.CompareTo(b.Site));
        return new CallersIndex(found.Select(c => c.Target).ToArray(), found.Select(c => c.Site).ToArray(), found.Select(c => (byte)c.Kind).ToArray());
    }

    private static void Sweep(byte[] bytes, ulong regionStart, ulong start, ulong end, List<CallSite> found)
    {
        var reader = new ByteArrayCodeReader(bytes, (int)(start - regionStart), (int)(end - start));
        var decoder = Decoder.Create(64, reader, start);
        while (decoder.IP < end)
        {
            decoder.Decode(out var instruction);
            if (instruction.IsInvalid) continue;
            if (instruction.Op0Kind != OpKind.NearBranch64) continue;
            var target = instruction.NearBranch64;
            switch (instruction.FlowControl)
            {
                case FlowControl.Call:
                    found.Add(new CallSite(instruction.IP, target, CallKind.Call));
                    break;
                case FlowControl.UnconditionalBranch when target < start || target >= end:
                    found.Add(new CallSite(instruction.IP, target, CallKind.Jump));
                    break;
                case FlowControl.ConditionalBranch when target < start || target >= end:
                    found.Add(new CallSite(instruction.IP, target, CallKind.ConditionalJump));
                    break;
            }
        }
    }

    public void Write(Stream stream, string key)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Encoding.ASCII.GetBytes(Magic));
        writer.Write(key);
        writer.Write(_targets.Length);
        var buffer = new byte[_targets.Length * 17];
        for (var i = 0; i < _targets.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(i * 8), _targets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(_targets.Length * 8 + i * 8), _sites[i]);
        }
        _kinds.CopyTo(buffer, _targets.Length * 16);
        writer.Write(buffer);
    }

    /// <summary>Reads an index written for this key; null when the file is missing, damaged or for other inputs.</summary>
    public static CallersIndex? Read(string path, string key)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (Encoding.ASCII.GetString(reader.ReadBytes(Magic.Length)) != Magic || reader.ReadString() != key) return null;
            var count = reader.ReadInt32();
            if (count < 0 || stream.Length - stream.Position != (long)count * 17) return null;
            var buffer = reader.ReadBytes(count * 17);
            var targets = new ulong[count];
            var sites = new ulong[count];
            for (var i = 0; i < count; i++)
            {
                targets[i] = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(i * 8));
                sites[i] = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(count * 8 + i * 8));
            }
            return new CallersIndex(targets, sites, buffer.AsSpan(count * 16, count).ToArray());
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
