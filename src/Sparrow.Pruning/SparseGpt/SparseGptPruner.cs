using Sparrow.Pruning.Calibration;

namespace Sparrow.Pruning.SparseGpt;

/// <summary>
/// SparseGPT on weights as a model stores them. A MatMul Y = X·B keeps B as [K, N] (inputs by outputs), the
/// transpose of the solver's [outputs, inputs], so the adapter transposes in and out.
/// </summary>
internal static class SparseGptPruner
{
    /// <summary>
    /// Prunes a MatMul weight [K, N] row-major given its inputs' statistics (collected with the Hessian); returns
    /// the new values and the kept mask, both [K, N].
    /// </summary>
    public static SparseGptResult PruneMatMulWeight(float[] kByN, int k, int n, LayerInputStatistics stats, SparseGptOptions options)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(options);
        return PruneMatMulWeight(kByN, k, n, Factor(stats, k, options), options);
    }

    /// <summary>As above with a factor already computed (e.g. once for Q, K and V, which share their input).</summary>
    public static SparseGptResult PruneMatMulWeight(float[] kByN, int k, int n, SparseGptInverseFactor factor, SparseGptOptions options)
    {
        ArgumentNullException.ThrowIfNull(kByN);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (kByN.Length != (long)k * n)
            throw new ArgumentException($"A MatMul weight of {k}x{n} needs {(long)k * n} values, got {kByN.Length}.", nameof(kByN));
        var nByK = Transpose(kByN, k, n);
        var result = SparseGptSolver.Prune(nByK, n, k, factor, options);
        return new SparseGptResult(Transpose(result.Weights, n, k), Transpose(result.Kept, n, k), result.PrunedCount);
    }

    /// <summary>The factor of a weight's input statistics: K must match and the Hessian must have been collected.</summary>
    public static SparseGptInverseFactor Factor(LayerInputStatistics stats, int k, SparseGptOptions options)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(options);
        if (stats.Features != k)
            throw new ArgumentException($"The statistics are for {stats.Features} input features but the weight has K = {k}.", nameof(stats));
        if (stats.Hessian is null)
            throw new ArgumentException("SparseGPT needs XᵀX: collect the layer's statistics with withHessian: true.", nameof(stats));
        if (stats.Rows == 0)
            throw new ArgumentException("SparseGPT needs calibration data: the layer's statistics saw no rows.", nameof(stats));
        return SparseGptInverseFactor.Compute(stats.Hessian, k, options.Damping);
    }

    private static T[] Transpose<T>(T[] source, int rows, int columns)
    {
        var result = new T[source.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
                result[(long)c * rows + r] = source[(long)r * columns + c];
        return result;
    }
}
