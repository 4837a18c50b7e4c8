namespace Klp.Build;

/// <summary>An exclusive lock file, so two builds filling one cache entry do the work once.</summary>
public static class FileLock
{
    /// <summary>Waits (up to 30 minutes) until no other process holds the lock; dispose the stream to release it.</summary>
    public static FileStream Acquire(string path, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow.AddMinutes(30);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                cancellationToken.WaitHandle.WaitOne(200);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }
}
