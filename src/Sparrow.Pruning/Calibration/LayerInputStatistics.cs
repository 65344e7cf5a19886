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
    /// <summary>Empty statistics of an input with <paramref name="features"/> features; <paramref name="withHessian"/> also keeps XᵀX.</summary>
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
        if (count == 0 || Features == 0) { Rows += count; return; }
        // Rows go in chunks converted to double once. Each Hessian line is then updated by the whole chunk while
        // it sits in L1, so a [K, K] Hessian larger than the caches is streamed once per chunk rather than once
        // per row; only the lower triangle is summed (XᵀX is symmetric) and mirrored at the end.
        var chunkRows = Math.Max(1, Math.Min(count, (256 * 1024 / sizeof(double)) / Features));
        var chunk = new double[chunkRows * Features];
        for (var first = 0; first < count; first += chunkRows)
        {
            var rowsInChunk = Math.Min(chunkRows, count - first);
            for (var r = 0; r < rowsInChunk; r++)
            {
                var wide = chunk.AsSpan(r * Features, Features);
                var row = rows.Slice((first + r) * Features, Features);
                for (var k = 0; k < Features; k++) wide[k] = row[k];
                TensorPrimitives.MultiplyAdd(wide, wide, SquareSums, SquareSums);
            }
            if (Hessian is not null) AddLowerTriangle(Hessian, chunk, rowsInChunk, Features);
        }
        if (Hessian is not null)
            for (var i = 0; i < Features; i++)
                for (var j = i + 1; j < Features; j++) Hessian[(long)i * Features + j] = Hessian[(long)j * Features + i];
        Rows += count;
    }

    /// <summary>H[i, 0..i] += Σ_r x_ri · x_r[0..i] over the chunk's rows; lines are independent, so they run in parallel (each line's sum order is fixed: deterministic).</summary>
    private static void AddLowerTriangle(double[] hessian, double[] chunk, int rowsInChunk, int features)
    {
        void Line(int i)
        {
            var line = hessian.AsSpan(i * features, i + 1);
            for (var r = 0; r < rowsInChunk; r++)
            {
                var xi = chunk[r * features + i];
                if (xi == 0) continue;
                TensorPrimitives.MultiplyAdd(chunk.AsSpan(r * features, i + 1), xi, line, line);
            }
        }
        if ((long)features * features * rowsInChunk < 1 << 20)
            for (var i = 0; i < features; i++) Line(i);
        else
            Parallel.For(0, features, Line);
    }
}
