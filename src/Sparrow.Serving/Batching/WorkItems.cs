using Sparrow.Tensors;

namespace Sparrow.Serving.Batching;

/// <summary>One unit of queued work. Items with equal <see cref="BatchKey"/>s may run together in one model call.</summary>
internal abstract class WorkItem
{
    public abstract object BatchKey { get; }

    /// <summary>The rows this item adds to a batch (what <see cref="ServingOptions.MaxBatch"/> counts).</summary>
    public abstract int Rows { get; }

    public abstract void Fail(Exception error);

    /// <summary>Signalled when whoever waits for this item has gone (a client that disconnected, a cancelled call): the item is then dropped, not run.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Ends the item as cancelled, without running it.</summary>
    public abstract void Cancel();
}

/// <summary>One text's token ids, waiting for its embedding. Texts batch with others of the same length bucket.</summary>
internal sealed class EmbeddingItem(int[] tokenIds, int lengthBucket) : WorkItem
{
    public int[] TokenIds { get; } = tokenIds;

    public int LengthBucket { get; } = lengthBucket;

    public TaskCompletionSource<float[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override object BatchKey => LengthBucket;

    public override int Rows => 1;

    public override void Fail(Exception error) => Result.TrySetException(error);

    public override void Cancel() => Result.TrySetCanceled(Cancellation);

    /// <summary>
    /// The length bucket of a text of <paramref name="tokens"/> tokens: the next power of two from 8, at most
    /// <paramref name="maxLength"/>. Few distinct lengths let texts of similar length share a batch while short
    /// texts pay for little padding.
    /// </summary>
    public static int Bucket(int tokens, int maxLength)
    {
        var bucket = 8;
        while (bucket < tokens) bucket *= 2;
        return Math.Min(bucket, Math.Max(maxLength, tokens));
    }
}

/// <summary>
/// One <c>/v1/infer</c> request's input tensors, waiting for its outputs. Requests whose inputs agree in everything
/// but the first (batch) dimension are concatenated along it; <see cref="Signature"/> says what must agree, and is
/// unique (no batching) when a model input's first dimension is fixed.
/// </summary>
internal sealed class TensorItem(IReadOnlyDictionary<string, Tensor> inputs, int rows, string signature) : WorkItem
{
    public IReadOnlyDictionary<string, Tensor> Inputs { get; } = inputs;

    /// <summary>The size of the inputs' first dimension (the rows this request adds to a batch).</summary>
    public override int Rows { get; } = rows;

    public string Signature { get; } = signature;

    public TaskCompletionSource<IReadOnlyDictionary<string, Tensor>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override object BatchKey => Signature;

    public override void Fail(Exception error) => Result.TrySetException(error);

    public override void Cancel() => Result.TrySetCanceled(Cancellation);
}
