using Iced.Intel;

namespace Klp.Build.Analysis;

/// <summary>
/// The x86-64 call-clobbered registers IPA-RA can let a caller keep across a call: rcx, rdx, rsi, rdi, r8–r11
/// (rax carries the return value; flags never live across a call), as a bit set.
/// </summary>
public static class CallClobberedRegisters
{
    public static readonly Register[] Tracked =
        [Register.RCX, Register.RDX, Register.RSI, Register.RDI, Register.R8, Register.R9, Register.R10, Register.R11];

    public const int All = 0xff;

    /// <summary>The bit of a register (any size: ecx, cx, cl all map to rcx), 0 when not tracked.</summary>
    public static int Bit(Register register)
    {
        var full = register.GetFullRegister();
        var i = Array.IndexOf(Tracked, full);
        return i < 0 ? 0 : 1 << i;
    }

    public static IReadOnlyList<string> Names(int mask) =>
        Tracked.Where((_, i) => (mask & (1 << i)) != 0).Select(r => r.ToString().ToLowerInvariant()).ToList();
}
