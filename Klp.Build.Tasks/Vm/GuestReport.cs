using System.Text;

namespace Klp.Build.Vm;

/// <summary>A guest command's exit code and combined output.</summary>
public sealed record GuestOutput(int ExitCode, string Output);

/// <summary>
/// What the guest reported on its results port (see <see cref="GuestInitScript"/>). Lines:
/// START · SETUP i rc b64 · PREREQ i rc b64 · CHECK phase id rc b64 · INSMOD rc b64 · REGISTERED 0|1 ·
/// TRANSITION patched|disabled ok|timeout · DISABLE rc b64 · RMMOD rc b64 · DMESG rc b64 · END; a session's STEP i rc b64.
/// Anything else on the port is ignored.
/// </summary>
public sealed class GuestReport
{
    public bool Started { get; private set; }
    public bool Ended { get; private set; }
    public SortedDictionary<int, GuestOutput> Setup { get; } = [];
    public SortedDictionary<int, GuestOutput> Prerequisites { get; } = [];
    public Dictionary<(VmPhase Phase, string CheckId), GuestOutput> Checks { get; } = [];
    public GuestOutput? Insmod { get; private set; }
    public bool? Registered { get; private set; }
    public Dictionary<VmPhase, bool> TransitionCompleted { get; } = [];
    public GuestOutput? Disable { get; private set; }
    public GuestOutput? Rmmod { get; private set; }
    public GuestOutput? Dmesg { get; private set; }
    /// <summary>A <see cref="GuestSession"/>'s steps by index.</summary>
    public SortedDictionary<int, GuestOutput> Steps { get; } = [];

    /// <summary>The last event seen (for "the VM stopped after …" messages).</summary>
    public string LastEvent { get; private set; } = "nothing";

    public static GuestReport Parse(string text)
    {
        var report = new GuestReport();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim('\r', ' ', '\0');
            var at = line.IndexOf(GuestInitScript.Marker + " ", StringComparison.Ordinal);
            if (at < 0) continue;
            var fields = line[(at + GuestInitScript.Marker.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            try
            {
                report.Apply(fields);
            }
            catch (FormatException)
            {
                // A line cut short by the VM stopping: ignore it.
            }
        }
        return report;
    }

    private void Apply(string[] f)
    {
        switch (f[0])
        {
            case "START": Started = true; break;
            case "END": Ended = true; break;
            case "SETUP" when f.Length == 4: Setup[Int(f[1])] = Output(f[2], f[3]); break;
            case "PREREQ" when f.Length == 4: Prerequisites[Int(f[1])] = Output(f[2], f[3]); break;
            case "CHECK" when f.Length == 5:
                var phase = VmPhases.Parse(f[1]) ?? throw new FormatException();
                Checks[(phase, f[2])] = Output(f[3], f[4]);
                break;
            case "INSMOD" when f.Length == 3: Insmod = Output(f[1], f[2]); break;
            case "REGISTERED" when f.Length == 2: Registered = f[1] == "1"; break;
            case "TRANSITION" when f.Length == 3:
                TransitionCompleted[VmPhases.Parse(f[1]) ?? throw new FormatException()] = f[2] == "ok";
                break;
            case "DISABLE" when f.Length == 3: Disable = Output(f[1], f[2]); break;
            case "RMMOD" when f.Length == 3: Rmmod = Output(f[1], f[2]); break;
            case "STEP" when f.Length == 4: Steps[Int(f[1])] = Output(f[2], f[3]); break;
            case "DMESG" when f.Length == 3: Dmesg = Output(f[1], f[2]); break;
            default: return;
        }
        LastEvent = string.Join(' ', f.Take(f[0] == "CHECK" ? 3 : 2));
    }

    private static int Int(string text) => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static GuestOutput Output(string exitCode, string base64) =>
        new(Int(exitCode), base64 == "-" ? "" : Encoding.UTF8.GetString(Convert.FromBase64String(base64)));
}
