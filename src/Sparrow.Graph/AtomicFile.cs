using System.Diagnostics;

namespace Sparrow.Graph;

/// <summary>Writes a file through a temporary file in the same folder and a rename, so that an
/// interrupted write never leaves a half-written file under the final name. A process killed mid-write
/// leaves its temporary file behind; the next write to the same file removes it.</summary>
public static class AtomicFile
{
    /// <summary>Creates <paramref name="path"/> (and its folder) from what <paramref name="write"/> writes to a temporary file, renamed into place only when it completes; an existing file is replaced.
    /// Temporary files that earlier writes to the same path left behind, from processes no longer running, are deleted first.</summary>
    /// <exception cref="IOException">The file cannot be written or renamed; the temporary file is removed.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        if (IsDevice(full))
        {
            // Renaming over /dev/null (as root) would replace the device with a regular file: write into it instead.
            using var device = new FileStream(full, FileMode.Open, FileAccess.Write);
            write(device);
            return;
        }
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        DeleteStaleTemporaryFiles(directory, Path.GetFileName(full));
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

    /// <summary>An existing file under /dev on Unix (/dev/null, /dev/stdout): written in place, never replaced.</summary>
    public static bool IsDevice(string fullPath) =>
        !OperatingSystem.IsWindows() && fullPath.StartsWith("/dev/", StringComparison.Ordinal) && File.Exists(fullPath);

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically, as <see cref="Write"/> does.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    /// <summary>Deletes <c>.NAME.PID.GUID.tmp</c> files of <paramref name="fileName"/> whose process has ended (a SIGKILL
    /// runs no cleanup). Files of running processes, this one included, may be writes in progress and stay.</summary>
    internal static void DeleteStaleTemporaryFiles(string directory, string fileName)
    {
        var prefix = $".{fileName}.";
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(directory, "*.tmp").ToList(); }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        foreach (var candidate in candidates)
        {
            var name = Path.GetFileName(candidate);
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            // What is between the prefix and ".tmp" must be exactly PID.GUID, so that another file's temporaries
            // (a name that merely starts with this one's) never match.
            var middle = name.AsSpan(prefix.Length, name.Length - prefix.Length - ".tmp".Length);
            var dot = middle.IndexOf('.');
            if (dot <= 0 || !int.TryParse(middle[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)) continue;
            if (!Guid.TryParseExact(middle[(dot + 1)..], "N", out _)) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { File.Delete(candidate); }
            catch (IOException) { } // another writer removed it, or it is in use: not worth failing this write
            catch (UnauthorizedAccessException) { }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return true;
        }
        catch (ArgumentException) { return false; } // no such process
        catch (Exception) { return true; } // cannot tell: keep the file
    }
}
