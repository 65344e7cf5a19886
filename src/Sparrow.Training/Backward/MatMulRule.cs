using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Backward;

/// <summary>
/// MatMul (numpy semantics): dA = dY · Bᵀ, dB = Aᵀ · dY per product, summed over broadcast batch dimensions.
/// A 2-D B (a weight) folds A's batch into its rows; when B is a pruned parameter its gradient is computed
/// only at the kept positions (<see cref="BackwardContext.SparseWeightGradients"/>).
/// </summary>
[BackwardRule("MatMul")]
internal sealed class MatMulRule : BackwardRule
{
    /// <summary>Compiles the rule.</summary>
    public MatMulRule(Node node, OperatorContext context) : base(node) { }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        var a = context.Input(0);
        var b = context.Input(1);
        var dy = context.OutputGradient(0);
        if (b.Rank == 2 && a.Rank >= 1)
        {
            int k = b.Shape[0], n = b.Shape[1], m = a.Length / Math.Max(1, k);
            if (context.Needs(0))
            {
                var da = Tensor<float>.Allocate(a.Shape, clear: false);
                Sgemm.Multiply(m, k, n, dy.Span, n, false, b.Span, n, true, da.Span, k, maxThreads: context.Threads);
                result[0] = da;
            }
            if (context.Needs(1)) result[1] = LinearGradients.Weight(a.Span, dy.Span, m, k, n, context.InputMasks[1], context);
            return result;
        }
        return Batched(context, a, b, dy, result);
    }

    private static Tensor<float>?[] Batched(BackwardContext context, Tensor<float> a, Tensor<float> b, Tensor<float> dy, Tensor<float>?[] result)
    {
        var aShape = a.Rank == 1 ? new[] { 1, a.Shape[0] } : a.CopyShape();
        var bShape = b.Rank == 1 ? new[] { b.Shape[0], 1 } : b.CopyShape();
        int m = aShape[^2], k = aShape[^1], n = bShape[^1];
        var batchShape = TensorShape.Broadcast(aShape.AsSpan(0, aShape.Length - 2), bShape.AsSpan(0, bShape.Length - 2));
        var batch = TensorShape.Product(batchShape);
        int[] fullA = [.. batchShape, m, k], fullB = [.. batchShape, k, n], fullY = [.. batchShape, m, n];
        using var a2 = a.Reshape(aShape);
        using var b2 = b.Reshape(bShape);
        using var ea = TensorMath.Expand(a2, fullA);
        using var eb = TensorMath.Expand(b2, fullB);
        using var g = dy.Reshape(fullY);
        if (context.Needs(0))
        {
            using var da = Tensor<float>.Allocate(fullA, clear: false);
            Sgemm.MultiplyBatched(batch, m, k, n, g.Span, n, false, m * n, eb.Span, n, true, k * n, da.Span, k, m * k, maxThreads: context.Threads);
            using var summed = TensorMath.SumTo(da, aShape);
            result[0] = summed.Reshape(a.Shape);
        }
        if (context.Needs(1))
        {
            using var db = Tensor<float>.Allocate(fullB, clear: false);
            Sgemm.MultiplyBatched(batch, k, n, m, ea.Span, k, true, m * k, g.Span, n, false, m * n, db.Span, n, k * n, maxThreads: context.Threads);
            using var summed = TensorMath.SumTo(db, bShape);
            result[1] = summed.Reshape(b.Shape);
        }
        return result;
    }
}

/// <summary>The weight gradient of Y[M, N] = X[M, K] · W[K, N] (W stored [K, N]), dense or masked.</summary>
internal static class LinearGradients
{
    public static Tensor<float> Weight(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int m, int k, int n, ParameterMask? mask, BackwardContext context)
    {
        var dw = Tensor<float>.Allocate([k, n], clear: false);
        if (WeightGradient.UseMasked(mask, context))
        {
            // dW[k, n] = Σₘ X[m, k] dY[m, n]: rows of Xᵀ against rows of dYᵀ.
            var p = WeightGradient.BatchLast(x, m, k, storedBatchFirst: true);
            var q = WeightGradient.BatchLast(dy, m, n, storedBatchFirst: true);
            WeightGradient.Masked(mask!, p, q, m, 1f, dw.Memory, context.Threads);
            WeightGradient.Return(p, q);
        }
        else WeightGradient.Dense(x, dy, m, k, n, 1f, dw.Span, context.Threads);
        return dw;
    }
}
