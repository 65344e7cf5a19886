namespace Sparrow.Graph;

/// <summary>Writes a file through a temporary file in the same folder and a rename, so that an
/// interrupted write never leaves a half-written file under the final name.</summary>
public static class AtomicFile
{
    /// <summary>Creates <paramref name="path"/> (and its folder) from what <paramref name="write"/> writes to a temporary file, renamed into place only when it completes; an existing file is replaced.</summary>
    /// <exception cref="IOException">The file cannot be written or renamed; the temporary file is removed.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically, as <see cref="Write"/> does.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });
}
