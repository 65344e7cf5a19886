namespace Sparrow.Pruning.SparseGpt;

/// <summary>A pruned weight: the updated values (pruned entries exactly 0) and which entries were kept, in the same layout.</summary>
internal sealed class SparseGptResult
{
    internal SparseGptResult(float[] weights, bool[] kept, long pruned)
    {
        Weights = weights;
        Kept = kept;
        PrunedCount = pruned;
    }

    public float[] Weights { get; }

    /// <summary>True where the weight is kept (it may still be 0, e.g. for a dead input), false where pruned.</summary>
    public bool[] Kept { get; }

    public long PrunedCount { get; }

    public double Sparsity => Kept.Length == 0 ? 0 : (double)PrunedCount / Kept.Length;
}
