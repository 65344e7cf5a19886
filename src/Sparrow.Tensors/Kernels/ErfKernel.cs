using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// The Gauss error function in float32, vectorised (Vector512/256/128), with a maximum absolute error of
/// about 7e-8 (about one unit in the last place near 1). Also the exact GELU built on it.
/// </summary>
/// <remarks>
/// For |x| &lt; 1: erf(x) = x + x·P(x²), with P a degree-6 least-squares fit of erf(x)/x - 1; writing the
/// leading x outside the polynomial keeps the rounding of the sum below one ulp. For 1 ≤ |x| ≤ 4:
/// erfc(x) = exp(-x²)·Q(x - 2.5), with Q a degree-11 fit of exp(x²)·erfc(x) (smooth, no cancellation), and
/// erf = 1 - erfc. Beyond 4, erfc is below half an ulp of 1, so erf is ±1. The coefficients were fitted in
/// double on 4000 Chebyshev nodes and checked in float against a double-precision reference on every
/// float in [0, 6].
/// Every element, including a tail shorter than a vector, goes through the same vector code, so a value's
/// result never depends on where it sits in the span; the scalar <see cref="Erf(float)"/> uses it too.
/// </remarks>
public static class ErfKernel
{
    private const float SmallLimit = 1f;
    private const float Saturation = 4f;
    private const float Center = 2.5f;

    // erf(x)/x - 1 as a polynomial in x², for |x| < 1.
    private const float A0 = 0.12837917f, A1 = -0.3761263f, A2 = 0.11283626f, A3 = -0.0268554f;
    private const float A4 = 0.0051912186f, A5 = -0.00080348464f, A6 = 7.933494E-05f;

    // exp(x²)·erfc(x) as a polynomial in (x - 2.5), for 1 ≤ x ≤ 4.
    private const float B0 = 0.21080635f, B1 = -0.07434734f, B2 = 0.024938203f, B3 = -0.008001696f;
    private const float B4 = 0.0024659822f, B5 = -0.0007331471f, B6 = 0.00021297214f, B7 = -5.952918E-05f;
    private const float B8 = 1.43536145E-05f, B9 = -3.7445893E-06f, B10 = 1.6718205E-06f, B11 = -4.2690337E-07f;

    private const float InvSqrt2 = 0.70710678118654752f;
    private const float SqrtTwoOverPi = 0.7978845608028654f;
    private const float TanhCubic = 0.044715f;

    /// <summary>erf(x). Agrees bit for bit with <see cref="Apply"/>.</summary>
    public static float Erf(float x)
    {
        Span<float> lane = stackalloc float[1] { x };
        Apply(lane, lane);
        return lane[0];
    }

    /// <summary>Exact GELU, x/2·(1 + erf(x/√2)). Agrees bit for bit with <see cref="Gelu(ReadOnlySpan{float}, Span{float})"/>.</summary>
    public static float Gelu(float x)
    {
        Span<float> lane = stackalloc float[1] { x };
        Gelu(lane, lane);
        return lane[0];
    }

    /// <summary>The tanh approximation of GELU. Agrees bit for bit with <see cref="GeluTanh(ReadOnlySpan{float}, Span{float})"/>.</summary>
    public static float GeluTanh(float x)
    {
        Span<float> lane = stackalloc float[1] { x };
        GeluTanh(lane, lane);
        return lane[0];
    }

    /// <summary>y[i] = erf(x[i]). <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y) => Run<ErfFunction>(x, y);

    /// <summary>y[i] = x[i]/2·(1 + erf(x[i]/√2)), the exact GELU (ONNX Gelu with approximate="none").</summary>
    /// <remarks>For negative x, 1 + erf is computed as erfc(|x|/√2) directly, so it keeps full relative accuracy.</remarks>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y) => Run<GeluFunction>(x, y);

    /// <summary>
    /// y[i] = x[i]/2·(1 + tanh(√(2/π)·(x[i] + 0.044715·x[i]³))), the tanh approximation of GELU
    /// (ONNX Gelu with approximate="tanh").
    /// </summary>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> y) => Run<GeluTanhFunction>(x, y);

    /// <summary>The widest vector this machine accelerates, in bits.</summary>
    internal static int PreferredWidth =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    private static void Run<TFunction>(ReadOnlySpan<float> x, Span<float> y) where TFunction : IFunction =>
        Run<TFunction>(x, y, PreferredWidth);

    /// <summary>Runs at a given vector width (512, 256 or 128 bits), so that tests can check every path.</summary>
    internal static void ApplyAtWidth(string function, ReadOnlySpan<float> x, Span<float> y, int width)
    {
        switch (function)
        {
            case "Erf": Run<ErfFunction>(x, y, width); break;
            case "Gelu": Run<GeluFunction>(x, y, width); break;
            case "GeluTanh": Run<GeluTanhFunction>(x, y, width); break;
            default: throw new ArgumentException($"unknown function '{function}'.", nameof(function));
        }
    }

    private static void Run<TFunction>(ReadOnlySpan<float> x, Span<float> y, int width) where TFunction : IFunction
    {
        if (y.Length < x.Length)
            throw new ArgumentException($"Destination holds {y.Length} elements, fewer than the {x.Length} of the source.", nameof(y));
        switch (width)
        {
            case 512: Run<TFunction, Lanes512, Vector512<float>>(x, y); break;
            case 256: Run<TFunction, Lanes256, Vector256<float>>(x, y); break;
            case 128: Run<TFunction, Lanes128, Vector128<float>>(x, y); break;
            default: throw new ArgumentException($"vector width {width} is not 512, 256 or 128 bits.", nameof(width));
        }
    }

    private static void Run<TFunction, TLanes, TVector>(ReadOnlySpan<float> x, Span<float> y)
        where TFunction : IFunction where TLanes : ILanes<TVector> where TVector : struct
    {
        var count = TLanes.Count;
        ref var source = ref MemoryMarshal.GetReference(x);
        ref var destination = ref MemoryMarshal.GetReference(y);
        var i = 0;
        for (; i <= x.Length - count; i += count)
        {
            var result = TFunction.Compute<TLanes, TVector>(TLanes.Load(ref Unsafe.Add(ref source, i)));
            TLanes.Store(result, ref Unsafe.Add(ref destination, i));
        }
        if (i == x.Length) return;
        // The tail runs through the same vector code on a padded copy.
        Span<float> buffer = stackalloc float[count];
        buffer.Clear();
        x[i..].CopyTo(buffer);
        ref var padded = ref MemoryMarshal.GetReference(buffer);
        TLanes.Store(TFunction.Compute<TLanes, TVector>(TLanes.Load(ref padded)), ref padded);
        buffer[..(x.Length - i)].CopyTo(y[i..]);
    }

    /// <summary>erf(|x|) and erfc(|x|) per lane, both with small absolute error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ErfAndErfcOfAbs<TLanes, TVector>(TVector x, out TVector erf, out TVector erfc)
        where TLanes : ILanes<TVector> where TVector : struct
    {
        var a = TLanes.Abs(x);
        var one = TLanes.Splat(1f);

        var t = TLanes.Multiply(a, a);
        var p = TLanes.MultiplyAdd(TLanes.Splat(A6), t, TLanes.Splat(A5));
        p = TLanes.MultiplyAdd(p, t, TLanes.Splat(A4));
        p = TLanes.MultiplyAdd(p, t, TLanes.Splat(A3));
        p = TLanes.MultiplyAdd(p, t, TLanes.Splat(A2));
        p = TLanes.MultiplyAdd(p, t, TLanes.Splat(A1));
        p = TLanes.MultiplyAdd(p, t, TLanes.Splat(A0));
        var erfSmall = TLanes.MultiplyAdd(a, p, a);

        // Clamped into the fitted range; beyond it erfc is set to 0 below.
        var c = TLanes.Min(TLanes.Max(a, one), TLanes.Splat(Saturation));
        var u = TLanes.Subtract(c, TLanes.Splat(Center));
        var q = TLanes.MultiplyAdd(TLanes.Splat(B11), u, TLanes.Splat(B10));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B9));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B8));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B7));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B6));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B5));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B4));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B3));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B2));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B1));
        q = TLanes.MultiplyAdd(q, u, TLanes.Splat(B0));
        var erfcLarge = TLanes.Multiply(TLanes.Exp(TLanes.Negate(TLanes.Multiply(c, c))), q);
        // erfc(4) is 1.5e-8; past it, 0 keeps GELU of very negative inputs at 0 as the unfused graph has it.
        erfcLarge = TLanes.Select(TLanes.GreaterThan(a, TLanes.Splat(Saturation)), TLanes.Splat(0f), erfcLarge);

        var isSmall = TLanes.LessThan(a, one);
        erf = TLanes.Select(isSmall, erfSmall, TLanes.Subtract(one, erfcLarge));
        erfc = TLanes.Select(isSmall, TLanes.Subtract(one, erfSmall), erfcLarge);
    }

    private interface IFunction
    {
        static abstract TVector Compute<TLanes, TVector>(TVector x) where TLanes : ILanes<TVector> where TVector : struct;
    }

    private readonly struct ErfFunction : IFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Compute<TLanes, TVector>(TVector x) where TLanes : ILanes<TVector> where TVector : struct
        {
            ErfAndErfcOfAbs<TLanes, TVector>(x, out var erf, out _);
            // erf(|x|) has no sign bit set, so OR-ing in the argument's sign gives erf(x); NaN stays NaN below.
            var result = TLanes.WithSignOf(erf, x);
            return TLanes.Select(TLanes.IsNaN(x), x, result);
        }
    }

    private readonly struct GeluFunction : IFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Compute<TLanes, TVector>(TVector x) where TLanes : ILanes<TVector> where TVector : struct
        {
            var z = TLanes.Multiply(x, TLanes.Splat(InvSqrt2));
            ErfAndErfcOfAbs<TLanes, TVector>(z, out var erf, out var erfc);
            // 1 + erf(z) is 1 + erf(|z|) for z ≥ 0 and erfc(|z|) for z < 0: no cancellation either way.
            var onePlusErf = TLanes.Select(TLanes.LessThan(z, TLanes.Splat(0f)), erfc, TLanes.Add(TLanes.Splat(1f), erf));
            var result = TLanes.Multiply(TLanes.Multiply(x, TLanes.Splat(0.5f)), onePlusErf);
            return TLanes.Select(TLanes.IsNaN(x), x, result);
        }
    }

    private readonly struct GeluTanhFunction : IFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVector Compute<TLanes, TVector>(TVector x) where TLanes : ILanes<TVector> where TVector : struct
        {
            var cubic = TLanes.Multiply(TLanes.Multiply(TLanes.Splat(TanhCubic), x), TLanes.Multiply(x, x));
            var inner = TLanes.Multiply(TLanes.Splat(SqrtTwoOverPi), TLanes.Add(x, cubic));
            // 1 + tanh(u) = 2 / (1 + exp(-2u)); an exp that overflows to +inf gives 0, as it should for very negative x.
            var e = TLanes.Exp(TLanes.Multiply(inner, TLanes.Splat(-2f)));
            var onePlusTanh = TLanes.Divide(TLanes.Splat(2f), TLanes.Add(TLanes.Splat(1f), e));
            return TLanes.Multiply(TLanes.Multiply(x, TLanes.Splat(0.5f)), onePlusTanh);
        }
    }

    /// <summary>The vector operations the functions need, once per width; the JIT specialises each use.</summary>
    private interface ILanes<TVector> where TVector : struct
    {
        static abstract int Count { get; }

        static abstract TVector Load(ref float source);

        static abstract void Store(TVector value, ref float destination);

        static abstract TVector Splat(float value);

        static abstract TVector Add(TVector a, TVector b);

        static abstract TVector Subtract(TVector a, TVector b);

        static abstract TVector Multiply(TVector a, TVector b);

        static abstract TVector Divide(TVector a, TVector b);

        /// <summary>a·b + c with one rounding.</summary>
        static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

        static abstract TVector Negate(TVector x);

        static abstract TVector Abs(TVector x);

        static abstract TVector Min(TVector a, TVector b);

        static abstract TVector Max(TVector a, TVector b);

        static abstract TVector Exp(TVector x);

        /// <summary>All bits set in the lanes where a &lt; b.</summary>
        static abstract TVector LessThan(TVector a, TVector b);

        static abstract TVector GreaterThan(TVector a, TVector b);

        static abstract TVector IsNaN(TVector x);

        static abstract TVector Select(TVector mask, TVector ifTrue, TVector ifFalse);

        /// <summary>A non-negative magnitude given the sign bit of another value.</summary>
        static abstract TVector WithSignOf(TVector magnitude, TVector sign);
    }

    private readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static int Count => Vector512<float>.Count;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Splat(float value) => Vector512.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Negate(Vector512<float> x) => -x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Abs(Vector512<float> x) => Vector512.Abs(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Exp(Vector512<float> x) => Vector512.Exp(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> LessThan(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> GreaterThan(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> IsNaN(Vector512<float> x) => ~Vector512.Equals(x, x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Select(Vector512<float> mask, Vector512<float> ifTrue, Vector512<float> ifFalse) => Vector512.ConditionalSelect(mask, ifTrue, ifFalse);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> WithSignOf(Vector512<float> magnitude, Vector512<float> sign) => magnitude | (sign & Vector512.Create(-0f));
    }

    private readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static int Count => Vector256<float>.Count;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Splat(float value) => Vector256.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Negate(Vector256<float> x) => -x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Abs(Vector256<float> x) => Vector256.Abs(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp(Vector256<float> x) => Vector256.Exp(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> LessThan(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> GreaterThan(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> IsNaN(Vector256<float> x) => ~Vector256.Equals(x, x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifTrue, Vector256<float> ifFalse) => Vector256.ConditionalSelect(mask, ifTrue, ifFalse);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> WithSignOf(Vector256<float> magnitude, Vector256<float> sign) => magnitude | (sign & Vector256.Create(-0f));
    }

    private readonly struct Lanes128 : ILanes<Vector128<float>>
    {
        public static int Count => Vector128<float>.Count;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Splat(float value) => Vector128.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Negate(Vector128<float> x) => -x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Abs(Vector128<float> x) => Vector128.Abs(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Exp(Vector128<float> x) => Vector128.Exp(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> LessThan(Vector128<float> a, Vector128<float> b) => Vector128.LessThan(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> GreaterThan(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThan(a, b);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> IsNaN(Vector128<float> x) => ~Vector128.Equals(x, x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Select(Vector128<float> mask, Vector128<float> ifTrue, Vector128<float> ifFalse) => Vector128.ConditionalSelect(mask, ifTrue, ifFalse);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> WithSignOf(Vector128<float> magnitude, Vector128<float> sign) => magnitude | (sign & Vector128.Create(-0f));
    }
}
