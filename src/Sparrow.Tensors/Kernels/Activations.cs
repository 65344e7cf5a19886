using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sparrow.Tensors.Kernels;

/// <summary>An element-wise function a kernel applies to its results before storing them.</summary>
public enum FusedActivation
{
    /// <summary>No activation: results are stored as computed.</summary>
    None = 0,
    /// <summary>max(x, 0).</summary>
    Relu = 1,

    /// <summary>Exact GELU, x/2 * (1 + erf(x/sqrt 2)), as ONNX Gelu with approximate="none".</summary>
    Gelu = 2,
}

/// <summary>The fused activations over spans, with the same vector code the GEMM epilogue uses.</summary>
public static unsafe class Activations
{
    /// <summary>Parses an activation name as Sparrow's fused operators spell it ("", "Relu", "Gelu").</summary>
    public static FusedActivation Parse(string name) => name switch
    {
        "" or "None" => FusedActivation.None,
        "Relu" => FusedActivation.Relu,
        "Gelu" => FusedActivation.Gelu,
        _ => throw new NotSupportedException($"activation '{name}' is not supported (use \"\", \"Relu\" or \"Gelu\")."),
    };

    /// <summary>Applies <paramref name="activation"/> to <paramref name="values"/> in place.</summary>
    public static void Apply(Span<float> values, FusedActivation activation)
    {
        if (activation == FusedActivation.None || values.IsEmpty) return;
        fixed (float* p = values)
        {
            if (Vector512.IsHardwareAccelerated) Apply<Vector512Ops, Vector512<float>>(p, values.Length, activation);
            else if (Vector256.IsHardwareAccelerated) Apply<Vector256Ops, Vector256<float>>(p, values.Length, activation);
            else if (Vector128.IsHardwareAccelerated) Apply<Vector128Ops, Vector128<float>>(p, values.Length, activation);
            else Apply<ScalarOps, float>(p, values.Length, activation);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Apply<TOps, TVector>(float* p, int length, FusedActivation activation)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var i = 0;
        for (; i + TOps.Count <= length; i += TOps.Count)
            TOps.Store(p + i, Activate<TOps, TVector>(TOps.Load(p + i), activation));
        for (; i < length; i++)
            p[i] = Activate<ScalarOps, float>(p[i], activation);
    }

    /// <summary>Applies the activation to a GEMM tile of <paramref name="rows"/> rows by two vectors, in one call per tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ApplyTile<TOps, TVector>(float* c, int ldc, int rows, FusedActivation activation)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        if (activation == FusedActivation.Relu)
        {
            for (var r = 0; r < rows; r++, c += ldc)
            {
                TOps.Store(c, TOps.Relu(TOps.Load(c)));
                TOps.Store(c + width, TOps.Relu(TOps.Load(c + width)));
            }
        }
        else if (activation == FusedActivation.Gelu)
        {
            for (var r = 0; r < rows; r++, c += ldc)
            {
                TOps.Store(c, ActivationMath.Gelu<TOps, TVector>(TOps.Load(c)));
                TOps.Store(c + width, ActivationMath.Gelu<TOps, TVector>(TOps.Load(c + width)));
            }
        }
    }

    internal static TVector Activate<TOps, TVector>(TVector value, FusedActivation activation)
        where TOps : IVectorOps<TVector> where TVector : struct => activation switch
    {
        FusedActivation.Relu => TOps.Relu(value),
        FusedActivation.Gelu => ActivationMath.Gelu<TOps, TVector>(value),
        _ => value,
    };
}

/// <summary>The activation functions, written once over <see cref="IVectorOps{TVector}"/> for every vector width.</summary>
internal static class ActivationMath
{
    private const float InvSqrt2 = 0.70710678118654752f;

    // erfc(z) ~ t * exp(-z^2 + P(t)), t = 1 / (1 + z/2): the Chebyshev fit from Numerical Recipes (erfcc),
    // fractional error below 1.2e-7 for every z >= 0.
    private const float E0 = -1.26551223f;
    private const float E1 = 1.00002368f;
    private const float E2 = 0.37409196f;
    private const float E3 = 0.09678418f;
    private const float E4 = -0.18628806f;
    private const float E5 = 0.27886807f;
    private const float E6 = -1.13520398f;
    private const float E7 = 1.48851587f;
    private const float E8 = -0.82215223f;
    private const float E9 = 0.17087277f;

    /// <summary>
    /// gelu(x) = x/2 * (1 + erf(x/sqrt2)) = x/2 * erfc(-x/sqrt2). Working from erfc(|x|/sqrt2) keeps full
    /// relative precision in the negative tail, where 1 + erf would cancel to noise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Gelu<TOps, TVector>(TVector x) where TOps : IVectorOps<TVector> where TVector : struct
    {
        var one = TOps.Broadcast(1f);
        var z = TOps.Multiply(TOps.Abs(x), TOps.Broadcast(InvSqrt2));
        var t = TOps.Divide(one, TOps.MultiplyAdd(z, TOps.Broadcast(0.5f), one));
        var p = TOps.Broadcast(E9);
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E8));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E7));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E6));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E5));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E4));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E3));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E2));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E1));
        p = TOps.MultiplyAdd(p, t, TOps.Broadcast(E0));
        var erfc = TOps.Multiply(t, ExpNonPositive<TOps, TVector>(TOps.Subtract(p, TOps.Multiply(z, z))));
        var onePlusErf = TOps.SelectNonNegative(x, TOps.Subtract(TOps.Broadcast(2f), erfc), erfc);
        return TOps.Multiply(TOps.Multiply(TOps.Broadcast(0.5f), x), onePlusErf);
    }

    /// <summary>
    /// e^a for a &lt;= ~0.5 (inputs below -87 give e^-87, about 1.6e-38, instead of a denormal): a = n ln2 + r with
    /// |r| &lt;= ln2/2, e^r by its Taylor series to r^6 (relative error ~1e-7), times 2^n through the exponent bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector ExpNonPositive<TOps, TVector>(TVector a) where TOps : IVectorOps<TVector> where TVector : struct
    {
        a = TOps.Max(a, TOps.Broadcast(-87f));
        var n = TOps.Round(TOps.Multiply(a, TOps.Broadcast(1.44269504088896341f)));
        // ln2 split in two so that n * Ln2High is exact.
        var r = TOps.MultiplyAdd(n, TOps.Broadcast(-0.693145751953125f), a);
        r = TOps.MultiplyAdd(n, TOps.Broadcast(-1.428606765330187045e-06f), r);
        var p = TOps.Broadcast(1f / 720);
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f / 120));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f / 24));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f / 6));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(0.5f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f));
        p = TOps.MultiplyAdd(p, r, TOps.Broadcast(1f));
        return TOps.ScaleByPowerOfTwo(p, n);
    }

    public static float Gelu(float x) => Gelu<ScalarOps, float>(x);
}
