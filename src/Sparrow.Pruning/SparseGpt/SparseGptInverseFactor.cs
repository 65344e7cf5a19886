using System.Numerics.Tensors;

namespace Sparrow.Pruning.SparseGpt;

/// <summary>
/// The upper Cholesky factor U of the damped inverse Hessian, H⁻¹ = UᵀU, that SparseGPT reads: row i of U gives
/// the optimal update of the later columns when column i is pruned, and U_ii² is the pruning cost's denominator.
/// It depends only on the layer's inputs, so weights that share an input (Q, K and V) can share one factor.
/// </summary>
internal sealed class SparseGptInverseFactor
{
    private SparseGptInverseFactor(int features, double[] upper, bool[] deadInputs, double damping)
    {
        Features = features;
        Upper = upper;
        DeadInputs = deadInputs;
        Damping = damping;
    }

    /// <summary>K: input features.</summary>
    public int Features { get; }

    /// <summary>Inputs that were always zero in calibration (H_ii = 0): their weights carry no signal and are zeroed.</summary>
    public bool[] DeadInputs { get; }

    /// <summary>The damping used, as a fraction of the mean diagonal.</summary>
    public double Damping { get; }

    /// <summary>U, [K, K] row-major, zero below the diagonal.</summary>
    internal double[] Upper { get; }

    /// <summary>U[i, j].</summary>
    public double this[int i, int j] => Upper[(long)i * Features + j];

    /// <summary>
    /// Factors H = XᵀX ([K, K] row-major, symmetric; only the lower triangle is read): dead inputs get H_ii = 1,
    /// the diagonal gets <paramref name="damping"/> times its mean, then U = chol(H⁻¹) upper.
    /// </summary>
    public static SparseGptInverseFactor Compute(ReadOnlySpan<double> hessian, int features, double damping = 0.01)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(features);
        if (double.IsNaN(damping) || damping < 0) throw new ArgumentOutOfRangeException(nameof(damping), damping, "Damping must be >= 0.");
        var k = features;
        if (hessian.Length != (long)k * k)
            throw new ArgumentException($"A Hessian of {k} features needs {(long)k * k} values, got {hessian.Length}.", nameof(hessian));
        var dead = new bool[k];
        var diagonal = new double[k];
        for (var i = 0; i < k; i++)
        {
            var h = hessian[i * k + i];
            if (!double.IsFinite(h) || h < 0) throw new ArgumentException($"The Hessian's diagonal entry {i} is {h}: it must be finite and >= 0.", nameof(hessian));
            dead[i] = h == 0;
            diagonal[i] = dead[i] ? 1 : h;
        }
        var dampValue = k == 0 ? 0 : damping * diagonal.Average();

        // With P the reversal permutation, U = P·L⁻¹·P where L = chol(P·H·P): then UᵀU = P(LLᵀ)⁻¹P = H⁻¹, and
        // U is upper because P·lower·P is upper. One Cholesky and one triangular inverse instead of two and one.
        var reversed = new double[(long)k * k];
        for (var i = 0; i < k; i++)
        {
            var source = k - 1 - i;
            for (var j = 0; j < i; j++)
            {
                // Dead inputs' off-diagonal entries are zero already (their column of X is all zero).
                var value = hessian[source * k + (k - 1 - j)];
                if (!double.IsFinite(value)) throw new ArgumentException("The Hessian has a non-finite entry.", nameof(hessian));
                reversed[(long)i * k + j] = value;
            }
            reversed[(long)i * k + i] = diagonal[source] + dampValue;
        }
        CholeskyInPlace(reversed, k, damping);
        var inverseTransposed = InvertLowerTransposed(reversed, k);
        // U[a, b] = L⁻¹[k-1-a, k-1-b] = (L⁻¹)ᵀ[k-1-b, k-1-a].
        var upper = new double[(long)k * k];
        for (var a = 0; a < k; a++)
            for (var b = a; b < k; b++)
                upper[(long)a * k + b] = inverseTransposed[(long)(k - 1 - b) * k + (k - 1 - a)];
        return new SparseGptInverseFactor(k, upper, dead, damping);
    }

    /// <summary>Lower Cholesky factor in place, row by row (the upper triangle becomes zero).</summary>
    private static void CholeskyInPlace(double[] a, int k, double damping)
    {
        for (var i = 0; i < k; i++)
        {
            var rowI = a.AsSpan(i * k, k);
            for (var j = 0; j <= i; j++)
            {
                var rowJ = a.AsSpan(j * k, k);
                var sum = rowI[j] - TensorPrimitives.Dot<double>(rowI[..j], rowJ[..j]);
                if (i == j)
                {
                    if (!(sum > 0))
                        throw new InvalidOperationException(
                            $"The Hessian is not positive definite (pivot {k - 1 - i} is {sum:G3}): raise the damping above {damping:G3} of the mean diagonal or give more calibration data.");
                    rowI[i] = Math.Sqrt(sum);
                }
                else
                {
                    rowI[j] = sum / rowJ[j];
                }
            }
            rowI[(i + 1)..].Clear();
        }
    }

    /// <summary>
    /// (L⁻¹)ᵀ for lower L: row j holds column j of L⁻¹, found by forward substitution L x = e_j, whose sums are
    /// dot products of contiguous row pieces. Columns are independent, so they run in parallel.
    /// </summary>
    private static double[] InvertLowerTransposed(double[] lower, int k)
    {
        var result = new double[(long)k * k];
        Parallel.For(0, k, j =>
        {
            var x = result.AsSpan(j * k, k);
            x[j] = 1 / lower[(long)j * k + j];
            for (var i = j + 1; i < k; i++)
            {
                var rowI = lower.AsSpan(i * k, k);
                x[i] = -TensorPrimitives.Dot<double>(rowI[j..i], x[j..i]) / rowI[i];
            }
        });
        return result;
    }
}
