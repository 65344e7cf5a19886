using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Elementwise;
using Sparrow.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Tanh: the hyperbolic tangent, element-wise. TensorPrimitives.Tanh is vectorised but loses relative
/// accuracy near zero (about 5e-6 at 0.01, far worse below), so for |x| below
/// <see cref="AccurateTanh.PolynomialLimit"/> its result is replaced by the odd Taylor polynomial.
/// </summary>
[OnnxOperator("Tanh")]
internal sealed class TanhOperator : Operator
{
    public TanhOperator(Node node, OperatorContext context) : base(node)
    {
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context) =>
        [FloatUnary.Run<Function>(Required(inputs, 0), context, Node.OpType, FloatUnary.TranscendentalMinElementsPerThread)];

    private readonly struct Function : IFloatFunction
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (typeof(T) == typeof(float))
            {
                AccurateTanh.Apply(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(destination));
                return;
            }
            // Double and float16 are rare here: the scalar library function is accurate.
            for (var i = 0; i < x.Length; i++) destination[i] = T.CreateTruncating(Math.Tanh(double.CreateTruncating(x[i])));
        }
    }
}

/// <summary>Float tanh within about 2e-7 relative everywhere: TensorPrimitives away from zero, a polynomial near it.</summary>
internal static class AccurateTanh
{
    /// <summary>Below this, the polynomial is used; above it TensorPrimitives is within 2.6e-7 relative.</summary>
    public const float PolynomialLimit = 0.55f;

    /// <summary>
    /// tanh(x) = x Σ a_k x^(2k). From tanh' = 1 - tanh², (2k+1) a_k = -Σ_{i+j=k-1} a_i a_j with a_0 = 1.
    /// At |x| = 0.55 the terms shrink by about (2x/π)² ≈ 0.12 each, so ten terms reach float precision.
    /// </summary>
    private static readonly float[] Coefficients = BuildCoefficients(10);

    public static void Apply(ReadOnlySpan<float> x, Span<float> destination)
    {
        TensorPrimitives.Tanh(x, destination);
        var c = Coefficients;
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var limit = Vector512.Create(PolynomialLimit);
            for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.Create(x.Slice(i, Vector512<float>.Count));
                var small = Vector512.LessThan(Vector512.Abs(v), limit);
                if (small == Vector512<float>.Zero) continue;
                var v2 = v * v;
                var p = Vector512.Create(c[^1]);
                for (var k = c.Length - 2; k >= 0; k--) p = p * v2 + Vector512.Create(c[k]);
                var far = Vector512.Create((ReadOnlySpan<float>)destination.Slice(i, Vector512<float>.Count));
                Vector512.ConditionalSelect(small, v * p, far).CopyTo(destination.Slice(i, Vector512<float>.Count));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var limit = Vector256.Create(PolynomialLimit);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                var small = Vector256.LessThan(Vector256.Abs(v), limit);
                if (small == Vector256<float>.Zero) continue;
                var v2 = v * v;
                var p = Vector256.Create(c[^1]);
                for (var k = c.Length - 2; k >= 0; k--) p = p * v2 + Vector256.Create(c[k]);
                var far = Vector256.Create((ReadOnlySpan<float>)destination.Slice(i, Vector256<float>.Count));
                Vector256.ConditionalSelect(small, v * p, far).CopyTo(destination.Slice(i, Vector256<float>.Count));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var limit = Vector128.Create(PolynomialLimit);
            for (; i <= x.Length - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var v = Vector128.Create(x.Slice(i, Vector128<float>.Count));
                var small = Vector128.LessThan(Vector128.Abs(v), limit);
                if (small == Vector128<float>.Zero) continue;
                var v2 = v * v;
                var p = Vector128.Create(c[^1]);
                for (var k = c.Length - 2; k >= 0; k--) p = p * v2 + Vector128.Create(c[k]);
                var far = Vector128.Create((ReadOnlySpan<float>)destination.Slice(i, Vector128<float>.Count));
                Vector128.ConditionalSelect(small, v * p, far).CopyTo(destination.Slice(i, Vector128<float>.Count));
            }
        }
        for (; i < x.Length; i++)
            if (MathF.Abs(x[i]) < PolynomialLimit) destination[i] = Polynomial(x[i], c);
    }

    private static float Polynomial(float x, float[] c)
    {
        var x2 = x * x;
        var p = c[^1];
        for (var k = c.Length - 2; k >= 0; k--) p = p * x2 + c[k];
        return x * p;
    }

    private static float[] BuildCoefficients(int count)
    {
        var a = new double[count];
        a[0] = 1;
        for (var k = 1; k < count; k++)
        {
            var sum = 0.0;
            for (var i = 0; i < k; i++) sum += a[i] * a[k - 1 - i];
            a[k] = -sum / (2 * k + 1);
        }
        return a.Select(v => (float)v).ToArray();
    }
}
