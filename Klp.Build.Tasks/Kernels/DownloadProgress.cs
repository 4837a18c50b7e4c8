using System.Diagnostics;
using System.Globalization;

namespace Klp.Build.Kernels;

/// <summary>
/// While apt-get downloads into a directory, says every few seconds how many MiB have arrived, so a long download
/// (the -dbg package is about 860 MB) does not look like a hang.
/// </summary>
public sealed class DownloadProgress : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly string _directory;
    private readonly string _what;
    private readonly Action<string> _report;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly Timer _timer;

    public DownloadProgress(string directory, string what, Action<string> report, TimeSpan? interval = null)
    {
        _directory = directory;
        _what = what;
        _report = report;
        var every = interval ?? Interval;
        _timer = new Timer(_ => Tick(), null, every, every);
    }

    public static long BytesIn(string directory) =>
        Directory.Exists(directory)
            ? new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => { try { return f.Length; } catch (IOException) { return 0; } })
            : 0;

    private void Tick()
    {
        try
        {
            _report(string.Create(CultureInfo.InvariantCulture,
                $"klp: downloading {_what}: {BytesIn(_directory) / 1048576.0:F1} MiB after {_watch.Elapsed.TotalSeconds:F0} s"));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The directory is being renamed or the build is over: nothing to report.
        }
    }

    public void Dispose() => _timer.Dispose();
}
