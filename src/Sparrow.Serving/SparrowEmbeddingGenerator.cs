using Microsoft.Extensions.AI;
using Sparrow.Energy;
using Sparrow.Serving.Batching;
using Sparrow.Serving.Metrics;

namespace Sparrow.Serving;

/// <summary>
/// Sentence embeddings in process, as a Microsoft.Extensions.AI <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>:
/// the same embeddings as <c>sparrow embed</c> and <c>POST /v1/embeddings</c> (mean-pooled, L2-normalised), with no
/// server. Concurrent calls are batched together like the server's requests.
/// </summary>
public sealed class SparrowEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly ServedModel _model;
    private readonly bool _ownsModel;
    private readonly RequestBatcher _batcher;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private int _disposed;

    /// <param name="model">A sentence encoder (<see cref="ServedModel.CanEmbed"/>).</param>
    /// <param name="maxBatch">The most texts run together in one model call.</param>
    /// <param name="maxDelay">How long a text waits for others to share its batch (default: none).</param>
    /// <param name="ownsModel">Whether disposing the generator disposes <paramref name="model"/>.</param>
    public SparrowEmbeddingGenerator(ServedModel model, int maxBatch = 32, TimeSpan? maxDelay = null, bool ownsModel = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.CanEmbed) throw new ArgumentException($"Model '{model.Name}' is not a sentence encoder (token ids in, token states out).", nameof(model));
        _model = model;
        _ownsModel = ownsModel;
        var options = new ServingOptions { MaxBatch = maxBatch, MaxDelay = maxDelay ?? TimeSpan.Zero, MaxQueue = int.MaxValue, CacheEntries = 0 };
        options.Validate();
        _batcher = new RequestBatcher(model, options, new ServerMetrics(), EnergyMeters.CreateEstimate());
        _metadata = new EmbeddingGeneratorMetadata("sparrow", null, model.Name, model.EmbeddingSize);
    }

    /// <summary>A generator over the embedded all-MiniLM-L6-v2, which it owns.</summary>
    /// <param name="threads">Threads per operator (0: one per core).</param>
    public static SparrowEmbeddingGenerator CreateDefault(int threads = 0) => new(ServedModel.Load(null, threads), ownsModel: true);

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var texts = values.ToArray();
        if (options?.Dimensions is { } wanted && _metadata.DefaultModelDimensions is { } size && wanted != size)
            throw new ArgumentException($"{_model.Name} makes {size}-dimensional embeddings, not {wanted}.", nameof(options));
        var items = texts.Select(t =>
        {
            var ids = _model.Tokenizer.Encode(t, _model.MaxLength);
            return new EmbeddingItem(ids, EmbeddingItem.Bucket(ids.Length, _model.MaxLength)) { Cancellation = cancellationToken };
        }).ToArray();
        if (!_batcher.TryEnqueue(items)) throw new ObjectDisposedException(nameof(SparrowEmbeddingGenerator));
        var created = DateTimeOffset.UtcNow;
        var embeddings = new List<Embedding<float>>(items.Length);
        foreach (var item in items)
            embeddings.Add(new Embedding<float>(await item.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false)) { ModelId = _model.Name, CreatedAt = created });
        var tokens = items.Sum(i => (long)i.TokenIds.Length);
        return new GeneratedEmbeddings<Embedding<float>>(embeddings) { Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens } };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return _metadata;
        if (serviceType == typeof(ServedModel)) return _model;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Finishes the texts already queued, then stops (and disposes the model when it owns it); a second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _batcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (_ownsModel) _model.Dispose();
    }
}
