using Sparrow.Tensors;

namespace Sparrow.Pruning.Calibration;

/// <summary>
/// Wanda's importance score (Sun et al., "A Simple and Effective Pruning Approach for Large Language Models"):
/// |W| times the L2 norm, over all calibration rows, of the input feature the weight multiplies. A weight on a
/// feature with large activations matters more than its magnitude alone says.
/// </summary>
/// <remarks>
/// Wanda compares scores within each output: for a MatMul weight [K, N] (output n = Σ_k x_k·W[k, n]) that is
/// within each column n, i.e. within each row of Wᵀ = [out, in]; for a Gemm weight with transB = 1 ([N, K])
/// within each row. Comparing across outputs would mix outputs whose scales differ. The selection of what
/// to drop (per output, N:M, ...) is the mask selector's; this class only scores.
/// </remarks>
internal static class WandaScores
{
    /// <summary>
    /// Scores of a 2-D weight, in the weight's own layout: score[i] = |W[i]| · ‖X_k‖₂ where k is the index of
    /// element i along <paramref name="reductionAxis"/> (0 for MatMul [K, N], 1 for Gemm with transB = 1).
    /// </summary>
    public static float[] Compute(Tensor<float> weight, int reductionAxis, LayerInputStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(statistics);
        if (weight.Rank != 2) throw new ArgumentException($"Wanda scores 2-D weights; got {weight}.", nameof(weight));
        if (reductionAxis is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(reductionAxis), reductionAxis, "A 2-D weight's reduction axis is 0 or 1.");
        var (rows, columns) = (weight.Shape[0], weight.Shape[1]);
        var features = reductionAxis == 0 ? rows : columns;
        if (features != statistics.Features)
            throw new ArgumentException($"The weight {weight} has {features} input features on axis {reductionAxis}; the statistics have {statistics.Features}.", nameof(statistics));

        var norms = statistics.FeatureNorms();
        var values = weight.Span;
        var scores = new float[values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
            {
                var i = r * columns + c;
                scores[i] = (float)(Math.Abs(values[i]) * norms[reductionAxis == 0 ? r : c]);
            }
        return scores;
    }

    /// <summary>Scores of a MatMul or Gemm target's weight (its <see cref="PruningTarget.ReductionAxis"/> names the input features).</summary>
    public static float[] Compute(PruningTarget target, Tensor<float> weight, LayerInputStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!weight.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"The weight {weight} is not the shape of target '{target.WeightName}' [{string.Join(",", target.Shape)}].", nameof(weight));
        return Compute(weight, target.ReductionAxis, statistics);
    }
}
