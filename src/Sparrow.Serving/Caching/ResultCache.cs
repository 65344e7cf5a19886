using System.Security.Cryptography;
using System.Text;

namespace Sparrow.Serving.Caching;

/// <summary>A cache key: the first 128 bits of SHA-256 over the model's hash, the kind of request and its exact input.</summary>
internal readonly record struct CacheKey(UInt128 Value)
{
    public static CacheKey Of(string modelHash, string kind, ReadOnlySpan<byte> input)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(modelHash));
        hash.AppendData([0]);
        hash.AppendData(Encoding.UTF8.GetBytes(kind));
        hash.AppendData([0]);
        hash.AppendData(input);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return new CacheKey(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest));
    }

    public static CacheKey Of(string modelHash, string kind, string input) => Of(modelHash, kind, Encoding.UTF8.GetBytes(input));
}

/// <summary>
/// Least-recently-used results, bounded both in entries and in bytes (the larger limit evicts first whichever it
/// hits). Thread-safe; hits and misses are counted for the metrics. With zero entries it holds nothing.
/// </summary>
internal sealed class ResultCache<TValue> where TValue : class
{
    private readonly Dictionary<CacheKey, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = new(); // most recent first
    private readonly Func<TValue, long> _sizeOf;
    private readonly Lock _lock = new();
    private long _bytes;
    private long _hits;
    private long _misses;

    private sealed record Entry(CacheKey Key, TValue Value, long Bytes);

    public ResultCache(int maxEntries, long maxBytes, Func<TValue, long> sizeOf)
    {
        MaxEntries = maxEntries;
        MaxBytes = maxBytes;
        _sizeOf = sizeOf;
    }

    public int MaxEntries { get; }

    public long MaxBytes { get; }

    public bool Enabled => MaxEntries > 0 && MaxBytes > 0;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public int Count
    {
        get { lock (_lock) return _entries.Count; }
    }

    public long Bytes
    {
        get { lock (_lock) return _bytes; }
    }

    public bool TryGet(CacheKey key, out TValue value)
    {
        if (!Enabled)
        {
            value = null!;
            return false;
        }
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                _hits++;
                value = node.Value.Value;
                return true;
            }
            _misses++;
        }
        value = null!;
        return false;
    }

    public void Add(CacheKey key, TValue value)
    {
        if (!Enabled) return;
        var bytes = _sizeOf(value);
        if (bytes > MaxBytes) return; // would evict everything and still not fit
        lock (_lock)
        {
            if (_entries.Remove(key, out var old))
            {
                _recency.Remove(old);
                _bytes -= old.Value.Bytes;
            }
            var node = _recency.AddFirst(new Entry(key, value, bytes));
            _entries[key] = node;
            _bytes += bytes;
            while (_entries.Count > MaxEntries || _bytes > MaxBytes)
            {
                var last = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(last.Value.Key);
                _bytes -= last.Value.Bytes;
            }
        }
    }
}
