using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sparrow.Tensors.Kernels;

/// <summary>An element-wise function a kernel applies to its results before storing them.</summary>
public enum FusedActivation
{
    None = 0,
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

    internal static TVector Activate<TOps, TVector>(TVector value, FusedActivation activation)
        where TOps : IVectorOps<TVector> where TVector : struct => activation switch
    {
        FusedActivation.Relu => TOps.Relu(value),
        FusedActivation.Gelu => TOps.Gelu(value),
        _ => value,
    };
}

/// <summary>Constants and scalar forms shared by the vector activations.</summary>
internal static class ActivationMath
{
    public const float InvSqrt2 = 0.70710678118654752f;

    // erfc(z) ~ t * exp(-z^2 + P(t)), t = 1 / (1 + z/2): the Chebyshev fit from Numerical Recipes (erfcc),
    // fractional error below 1.2e-7 for every z >= 0.
    public const float E0 = -1.26551223f;
    public const float E1 = 1.00002368f;
    public const float E2 = 0.37409196f;
    public const float E3 = 0.09678418f;
    public const float E4 = -0.18628806f;
    public const float E5 = 0.27886807f;
    public const float E6 = -1.13520398f;
    public const float E7 = 1.48851587f;
    public const float E8 = -0.82215223f;
    public const float E9 = 0.17087277f;

    /// <summary>erfc(z) for z &gt;= 0.</summary>
    public static float Erfc(float z)
    {
        var t = 1f / (1f + 0.5f * z);
        var p = E9;
        p = p * t + E8;
        p = p * t + E7;
        p = p * t + E6;
        p = p * t + E5;
        p = p * t + E4;
        p = p * t + E3;
        p = p * t + E2;
        p = p * t + E1;
        p = p * t + E0;
        return t * MathF.Exp(p - z * z);
    }

    public static float Gelu(float x)
    {
        var erfc = Erfc(MathF.Abs(x) * InvSqrt2);
        return 0.5f * x * (x >= 0f ? 2f - erfc : erfc);
    }
}
