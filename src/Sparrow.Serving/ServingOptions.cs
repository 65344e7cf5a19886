namespace Sparrow.Serving;

/// <summary>How a <see cref="SparrowServer"/> listens, batches, caches and limits requests.</summary>
public sealed record ServingOptions
{
    /// <summary>The address to listen on; loopback unless the caller decides otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (see <see cref="SparrowServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>
    /// The most rows run together in one batch (a text is one row; a <c>/v1/infer</c> request adds its inputs' first
    /// dimension, and one larger than this runs alone); 1 turns batching off. <c>/v1/infer</c> requests are batched
    /// only for models that pass a check at start: two generated rows run together give what each gives alone.
    /// </summary>
    public int MaxBatch { get; init; } = 32;

    /// <summary>How long the first item of a batch waits for others before the batch runs.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The most results the cache keeps; 0 turns the cache off.</summary>
    public int CacheEntries { get; init; } = 4096;

    /// <summary>The most bytes of results the cache keeps.</summary>
    public long CacheBytes { get; init; } = 64L << 20;

    /// <summary>The most items waiting to run; a request that would queue more is refused with 503.</summary>
    public int MaxQueue { get; init; } = 1024;

    /// <summary>The largest request body in bytes; a larger one is refused with 413.</summary>
    public long MaxBodyBytes { get; init; } = 4L << 20;

    /// <summary>The most texts in one embeddings request; more (or more than <see cref="MaxQueue"/>, which could never be queued) is refused with 400.</summary>
    public int MaxInputsPerRequest { get; init; } = 2048;

    /// <summary>How long a stopping server waits for requests in flight before it gives up on them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the values, naming the first that is out of range.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "The port must be 0 (any free port) to 65535.");
        if (MaxBatch < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatch), MaxBatch, "The batch limit must be at least 1 (1: no batching).");
        if (MaxDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "The batching delay cannot be negative.");
        if (CacheEntries < 0) throw new ArgumentOutOfRangeException(nameof(CacheEntries), CacheEntries, "The cache size cannot be negative (0: no cache).");
        if (CacheBytes < 0) throw new ArgumentOutOfRangeException(nameof(CacheBytes), CacheBytes, "The cache's byte limit cannot be negative.");
        if (MaxQueue < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueue), MaxQueue, "The queue must hold at least one item.");
        if (MaxBodyBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxBodyBytes), MaxBodyBytes, "The body limit must be at least 1 byte.");
        if (MaxInputsPerRequest < 1) throw new ArgumentOutOfRangeException(nameof(MaxInputsPerRequest), MaxInputsPerRequest, "At least one input per request must be allowed.");
    }
}
