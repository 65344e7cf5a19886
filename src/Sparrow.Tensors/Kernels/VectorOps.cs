using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// The few vector operations the GEMM micro-kernels need, behind static abstract members so that each
/// kernel is written once and the JIT specialises it per width (Vector512, Vector256, Vector128, scalar).
/// </summary>
internal unsafe interface IVectorOps<TVector> where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TVector Zero { get; }

    static abstract TVector Load(float* source);

    static abstract void Store(float* destination, TVector value);

    static abstract TVector Broadcast(float value);

    /// <summary>a * b + c, fused where the hardware has FMA.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector Add(TVector a, TVector b);

    static abstract TVector Multiply(TVector a, TVector b);

    static abstract TVector Relu(TVector value);

    static abstract TVector Gelu(TVector value);
}

internal unsafe struct Vector512Ops : IVectorOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector512<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Vector512.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> value) => Vector512.Max(value, Vector512<float>.Zero);

    public static Vector512<float> Gelu(Vector512<float> x)
    {
        // gelu(x) = x/2 * (1 + erf(x/sqrt2)) = x/2 * erfc(-x/sqrt2); erfc of |x|/sqrt2 keeps full relative
        // precision in the tail, so large negative inputs do not cancel to noise.
        var z = Vector512.Abs(x) * Vector512.Create(ActivationMath.InvSqrt2);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(0.5f) * z);
        var p = Vector512.Create(ActivationMath.E9);
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E8));
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E7));
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E6));
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E5));
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E4));
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E3));
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E2));
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E1));
        p = Vector512.MultiplyAddEstimate(p, t, Vector512.Create(ActivationMath.E0));
        var erfc = t * Vector512.Exp(p - z * z);
        var onePlusErf = Vector512.ConditionalSelect(
            Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512.Create(2f) - erfc, erfc);
        return Vector512.Create(0.5f) * x * onePlusErf;
    }
}

internal unsafe struct Vector256Ops : IVectorOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector256<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Vector256.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> value) => Vector256.Max(value, Vector256<float>.Zero);

    public static Vector256<float> Gelu(Vector256<float> x)
    {
        var z = Vector256.Abs(x) * Vector256.Create(ActivationMath.InvSqrt2);
        var t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(0.5f) * z);
        var p = Vector256.Create(ActivationMath.E9);
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E8));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E7));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E6));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E5));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E4));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E3));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E2));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E1));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(ActivationMath.E0));
        var erfc = t * Vector256.Exp(p - z * z);
        var onePlusErf = Vector256.ConditionalSelect(
            Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256.Create(2f) - erfc, erfc);
        return Vector256.Create(0.5f) * x * onePlusErf;
    }
}

internal unsafe struct Vector128Ops : IVectorOps<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector128<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Vector128.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Relu(Vector128<float> value) => Vector128.Max(value, Vector128<float>.Zero);

    public static Vector128<float> Gelu(Vector128<float> x)
    {
        var z = Vector128.Abs(x) * Vector128.Create(ActivationMath.InvSqrt2);
        var t = Vector128<float>.One / (Vector128<float>.One + Vector128.Create(0.5f) * z);
        var p = Vector128.Create(ActivationMath.E9);
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E8));
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E7));
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E6));
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E5));
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E4));
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E3));
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E2));
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E1));
        p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(ActivationMath.E0));
        var erfc = t * Vector128.Exp(p - z * z);
        var onePlusErf = Vector128.ConditionalSelect(
            Vector128.GreaterThanOrEqual(x, Vector128<float>.Zero), Vector128.Create(2f) - erfc, erfc);
        return Vector128.Create(0.5f) * x * onePlusErf;
    }
}

/// <summary>One float per "vector": the fallback for machines without SIMD, and a reference path in tests.</summary>
internal unsafe struct ScalarOps : IVectorOps<float>
{
    public static int Count => 1;

    public static float Zero => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(float* source) => *source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, float value) => *destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => float.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Relu(float value) => MathF.Max(value, 0f);

    public static float Gelu(float x) => ActivationMath.Gelu(x);
}
