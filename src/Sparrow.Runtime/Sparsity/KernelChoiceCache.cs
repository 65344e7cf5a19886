using System.Text.Json;
using System.Text.Json.Serialization;
using Sparrow.Graph;

namespace Sparrow.Runtime.Sparsity;

/// <summary>
/// Measured kernel choices kept between sessions in a JSON file, keyed by machine and by weight shape, so that
/// a model is tuned once per machine. The file is read once, written atomically (temporary file and rename)
/// after new measurements, merged with what other processes wrote meanwhile (read, merge and rename happen under
/// a lock file beside it, so that two processes saving at once keep both their entries); a corrupt or unreadable
/// file is ignored (and replaced at the next write), a file that cannot be written only costs a re-measurement later.
/// </summary>
internal sealed class KernelChoiceCache
{
    private const int FormatVersion = 1;
    private static readonly Lock WriteLock = new();
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly Dictionary<string, CachedChoice> _entries;
    private readonly Dictionary<string, CachedChoice> _added = new();

    public KernelChoiceCache(string path)
    {
        Path = path;
        _entries = Read(path) ?? new Dictionary<string, CachedChoice>();
    }

    public string Path { get; }

    /// <summary>The file could not be read (corrupt, or another format): it is rewritten at the next save.</summary>
    public bool WasCorrupt { get; private set; }

    /// <summary>Where the cache lives when the options name no file: $SPARROW_CACHE_DIR, else $XDG_CACHE_HOME/sparrow, else ~/.cache/sparrow.</summary>
    public static string DefaultPath
    {
        get
        {
            var folder = Environment.GetEnvironmentVariable("SPARROW_CACHE_DIR");
            if (string.IsNullOrWhiteSpace(folder))
            {
                var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
                folder = string.IsNullOrWhiteSpace(xdg)
                    ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "sparrow")
                    : System.IO.Path.Combine(xdg, "sparrow");
            }
            return System.IO.Path.Combine(folder, "kernel-choices.json");
        }
    }

    /// <param name="patterns">
    /// The N:M patterns the weight follows (e.g. "2:4,4:8", or "" for none): a 2:4 weight and an unstructured one
    /// with the same count of kept weights have different candidates, so they must not share an entry.
    /// </param>
    public static string Key(int rows, int columns, long kept, int threads, string patterns) =>
        $"{MachineSignature.Current} | {rows}x{columns} kept {kept}{(patterns.Length == 0 ? "" : $" follows {patterns}")} | {threads} threads | table {MachineSignature.KernelTableVersion}";

    /// <summary>How long a save waits for another process's save before giving up (then the entries are measured again later).</summary>
    internal static TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public CachedChoice? Find(string key) => _entries.GetValueOrDefault(key);

    public void Add(string key, CachedChoice choice)
    {
        _entries[key] = choice;
        _added[key] = choice;
    }

    /// <summary>Writes new entries (merged into the file as it is now). Returns false when the file could not be written.</summary>
    public bool Save()
    {
        if (_added.Count == 0 && !WasCorrupt) return true;
        lock (WriteLock)
        {
            try
            {
                using var fileLock = LockFile(Path);
                var merged = Read(Path) ?? new Dictionary<string, CachedChoice>();
                foreach (var (key, value) in _added) merged[key] = value;
                var file = new CacheFile { Format = FormatVersion, Choices = merged };
                AtomicFile.Write(Path, stream => JsonSerializer.Serialize(stream, file, Json));
                _added.Clear();
                WasCorrupt = false;
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Holds <c>PATH.lock</c> open exclusively (an advisory lock other Sparrow processes honour), retrying until
    /// <see cref="LockTimeout"/>; the lock file is left in place, since deleting it would let two processes lock two files.
    /// </summary>
    /// <exception cref="IOException">Another process held the lock for the whole timeout.</exception>
    private static FileStream LockFile(string path)
    {
        var lockPath = path + ".lock";
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(lockPath))!);
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(LockTimeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (IsLockConflict(e) && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
            {
                Thread.Sleep(5);
            }
        }
    }

    /// <summary>Another process holds the lock (EWOULDBLOCK on Linux and macOS, a sharing or lock violation on Windows); other errors (a read-only folder) fail at once.</summary>
    private static bool IsLockConflict(IOException e) =>
        OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 0x20 or 0x21 : e.HResult is 11 or 35;

    private Dictionary<string, CachedChoice>? Read(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            using var stream = File.OpenRead(path);
            var file = JsonSerializer.Deserialize<CacheFile>(stream, Json);
            if (file is null || file.Format != FormatVersion || file.Choices is null)
            {
                WasCorrupt = true;
                return null;
            }
            // Entries missing their kernel name are damage too: drop them.
            var valid = file.Choices.Where(kv => !string.IsNullOrEmpty(kv.Value?.Kernel)).ToDictionary(kv => kv.Key, kv => kv.Value);
            if (valid.Count != file.Choices.Count) WasCorrupt = true;
            return valid;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            WasCorrupt = true;
            return null;
        }
    }

    private sealed class CacheFile
    {
        [JsonPropertyName("format")]
        public int Format { get; set; }

        [JsonPropertyName("choices")]
        public Dictionary<string, CachedChoice>? Choices { get; set; }
    }
}
