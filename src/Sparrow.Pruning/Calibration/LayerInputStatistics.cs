using System.Numerics.Tensors;

namespace Sparrow.Pruning.Calibration;

/// <summary>
/// What the calibration-based criteria need to know about one target weight's input X [rows, K] over the
/// calibration data, accumulated batch by batch so that no batch's activations outlive it: per input feature
/// the sum of squares (Wanda scores |W| by the feature's L2 norm) and, when asked for, XᵀX (SparseGPT's Hessian).
/// Sums are in double: thousands of tokens of float activations lose digits in float.
/// </summary>
public sealed class LayerInputStatistics
{
    public LayerInputStatistics(int features, bool withHessian)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(features);
        Features = features;
        SquareSums = new double[features];
        Hessian = withHessian ? new double[(long)features * features] : null;
    }

    /// <summary>K: input features of the weight.</summary>
    public int Features { get; }

    /// <summary>Rows of X seen so far (tokens, for a transformer).</summary>
    public long Rows { get; private set; }

    /// <summary>Σ over rows of x_k², per input feature k.</summary>
    public double[] SquareSums { get; }

    /// <summary>Σ over rows of x xᵀ, [K, K] row-major; null unless asked for.</summary>
    public double[]? Hessian { get; }

    /// <summary>An independent copy (same sums, own arrays).</summary>
    public LayerInputStatistics Copy()
    {
        var copy = new LayerInputStatistics(Features, Hessian is not null) { Rows = Rows };
        SquareSums.CopyTo(copy.SquareSums, 0);
        Hessian?.CopyTo(copy.Hessian!, 0);
        return copy;
    }

    /// <summary>The L2 norm of each input feature over all rows seen: √(Σ x_k²).</summary>
    public double[] FeatureNorms() => SquareSums.Select(Math.Sqrt).ToArray();

    /// <summary>Adds <paramref name="count"/> rows of X, row-major [count, Features].</summary>
    public void Add(ReadOnlySpan<float> rows, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (rows.Length < (long)count * Features)
            throw new ArgumentException($"{count} rows of {Features} features need {(long)count * Features} values, got {rows.Length}.", nameof(rows));
        var wide = new double[Features];
        for (var r = 0; r < count; r++)
        {
            var row = rows.Slice(r * Features, Features);
            for (var k = 0; k < Features; k++) wide[k] = row[k];
            // x_k² summed in double; the Hessian's lines are vectorised multiply-adds (the cost of SparseGPT's calibration).
            TensorPrimitives.MultiplyAdd(wide, wide, SquareSums, SquareSums);
            if (Hessian is not null)
                for (var i = 0; i < Features; i++)
                {
                    var xi = wide[i];
                    if (xi == 0) continue;
                    var line = Hessian.AsSpan(i * Features, Features);
                    TensorPrimitives.MultiplyAdd(wide, xi, line, line);
                }
        }
        Rows += count;
    }
}
