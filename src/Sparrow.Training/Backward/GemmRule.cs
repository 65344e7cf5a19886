using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Sparrow.Training.Autograd;

namespace Sparrow.Training.Backward;

/// <summary>
/// Gemm, Y = α op(A) op(B) + β C: d op(A) = α dY op(B)ᵀ, d op(B) = α op(A)ᵀ dY (transposed back where the
/// operand is stored transposed), dC = β dY summed to C's shape. A pruned B gets its gradient only at its
/// kept positions.
/// </summary>
[BackwardRule("Gemm")]
internal sealed class GemmRule : BackwardRule
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly bool _transA;
    private readonly bool _transB;

    /// <summary>Compiles the rule.</summary>
    public GemmRule(Node node, OperatorContext context) : base(node)
    {
        _alpha = node.GetFloat("alpha", 1f);
        _beta = node.GetFloat("beta", 1f);
        _transA = node.GetInt("transA", 0) != 0;
        _transB = node.GetInt("transB", 0) != 0;
    }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        var a = context.Input(0);
        var b = context.Input(1);
        var dy = context.OutputGradient(0);
        int m = _transA ? a.Shape[1] : a.Shape[0], k = _transA ? a.Shape[0] : a.Shape[1];
        int n = _transB ? b.Shape[0] : b.Shape[1];
        if (context.Needs(0))
        {
            var da = Tensor<float>.Allocate(a.Shape, clear: false);
            if (!_transA) // dA[M, K] = α dY[M, N] op(B)ᵀ
                Sgemm.Multiply(m, k, n, dy.Span, n, false, b.Span, _transB ? k : n, !_transB, da.Span, k, _alpha, maxThreads: context.Threads);
            else // dA[K, M] = α op(B) dYᵀ
                Sgemm.Multiply(k, m, n, b.Span, _transB ? k : n, _transB, dy.Span, n, true, da.Span, m, _alpha, maxThreads: context.Threads);
            result[0] = da;
        }
        if (context.Needs(1))
        {
            var db = Tensor<float>.Allocate(b.Shape, clear: false);
            var mask = context.InputMasks[1];
            if (WeightGradient.UseMasked(mask, context))
            {
                // Stored B is [rows, columns]; dB[r, c] = α Σₘ P[r, m] Q[c, m].
                var aT = WeightGradient.BatchLast(a.Span, m, k, storedBatchFirst: !_transA);
                var dyT = WeightGradient.BatchLast(dy.Span, m, n, storedBatchFirst: true);
                if (_transB) WeightGradient.Masked(mask!, dyT, aT, m, _alpha, db.Memory, context.Threads);
                else WeightGradient.Masked(mask!, aT, dyT, m, _alpha, db.Memory, context.Threads);
                WeightGradient.Return(aT, dyT);
            }
            else if (!_transB) // dB[K, N] = α op(A)ᵀ dY
                Sgemm.Multiply(k, n, m, a.Span, _transA ? m : k, !_transA, dy.Span, n, false, db.Span, n, _alpha, maxThreads: context.Threads);
            else // dB[N, K] = α dYᵀ op(A)
                Sgemm.Multiply(n, k, m, dy.Span, n, true, a.Span, _transA ? m : k, _transA, db.Span, k, _alpha, maxThreads: context.Threads);
            result[1] = db;
        }
        if (context.Needs(2) && context.Inputs[2] is Tensor<float> c)
        {
            var dc = TensorMath.SumTo(dy, c.Shape);
            if (_beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(dc.Span, _beta, dc.Span);
            result[2] = dc;
        }
        return result;
    }
}
