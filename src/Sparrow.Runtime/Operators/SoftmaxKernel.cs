using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Softmax of one row in place, with an optional scale and additive mask applied first:
/// row = softmax(row · factor + mask). Three passes over a row that is in L1 (scale, mask and maximum;
/// exp and sum; normalise) instead of the seven of the element-wise operators one after another.
/// </summary>
/// <remarks>
/// exp is computed here rather than by TensorPrimitives, whose float exp goes through double and costs
/// several times more: 2^n · p(r) with n = round(x·log2 e), r = x - n·ln 2 (in two parts) and p the degree-6
/// Taylor polynomial, whose error on |r| ≤ ln2/2 is below 1e-7 relative. Arguments are x - max ≤ 0, clamped
/// at -87.3 (where exp reaches the smallest normal float; anything further below is 0 next to the row's
/// maximum term, which is 1). NaN propagates (Max keeps it), so a row with a NaN is NaN, as in the
/// element-wise form. Written once over vector lanes of 512, 256 or 128 bits, the tail in scalar lanes.
/// </remarks>
internal static class SoftmaxKernel
{
    private const float MinArgument = -87.3f;
    private const float Log2E = 1.44269504089f;
    private const float Ln2High = 0.693145751953125f;
    private const float Ln2Low = 1.42860682030941723212e-6f;

    /// <summary>The widest vector this machine accelerates, in bits (0: scalar only).</summary>
    internal static int PreferredWidth =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>
    /// row = softmax(row · factor + mask), where mask is <paramref name="maskRow"/> (one value per element)
    /// when it is not empty, else the single <paramref name="maskValue"/>.
    /// </summary>
    public static void ScaleMaskSoftmax(Span<float> row, float factor, ReadOnlySpan<float> maskRow, float maskValue) =>
        ScaleMaskSoftmax(row, factor, maskRow, maskValue, PreferredWidth);

    /// <summary>At a given vector width (512, 256, 128, or 0 for scalar), so that tests can run every path.</summary>
    internal static void ScaleMaskSoftmax(Span<float> row, float factor, ReadOnlySpan<float> maskRow, float maskValue, int width)
    {
        if (!maskRow.IsEmpty && maskRow.Length != row.Length)
            throw new ArgumentException($"The mask row has {maskRow.Length} elements; the row has {row.Length}.", nameof(maskRow));
        if (row.IsEmpty) return;
        switch (width)
        {
            case 512: Run<Lanes512, Vector512<float>>(row, factor, maskRow, maskValue); break;
            case 256: Run<Lanes256, Vector256<float>>(row, factor, maskRow, maskValue); break;
            case 128: Run<Lanes128, Vector128<float>>(row, factor, maskRow, maskValue); break;
            case 0: Run<ScalarLanes, float>(row, factor, maskRow, maskValue); break;
            default: throw new ArgumentException($"vector width {width} is not 512, 256, 128 or 0.", nameof(width));
        }
    }

    private static void Run<TLanes, TVector>(Span<float> row, float factor, ReadOnlySpan<float> maskRow, float maskValue)
        where TLanes : ILanes<TVector> where TVector : struct
    {
        var n = row.Length;
        var count = TLanes.Count;
        var vectorEnd = n - n % count;
        ref var x = ref MemoryMarshal.GetReference(row);
        ref var m = ref MemoryMarshal.GetReference(maskRow);
        var hasMaskRow = !maskRow.IsEmpty;

        // Pass 1: scale, mask, running maximum.
        var vFactor = TLanes.Splat(factor);
        var vMaskValue = TLanes.Splat(maskValue);
        var vMax = TLanes.Splat(float.NegativeInfinity);
        var max = float.NegativeInfinity;
        for (var i = 0; i < vectorEnd; i += count)
        {
            var v = TLanes.Add(TLanes.Multiply(TLanes.Load(ref Unsafe.Add(ref x, i)), vFactor), hasMaskRow ? TLanes.Load(ref Unsafe.Add(ref m, i)) : vMaskValue);
            TLanes.Store(v, ref Unsafe.Add(ref x, i));
            vMax = TLanes.Max(vMax, v);
        }
        for (var i = vectorEnd; i < n; i++)
        {
            var v = Unsafe.Add(ref x, i) * factor + (hasMaskRow ? Unsafe.Add(ref m, i) : maskValue);
            Unsafe.Add(ref x, i) = v;
            max = MathF.Max(max, v);
        }
        max = MathF.Max(max, TLanes.HorizontalMax(vMax));

        // Pass 2: exp(x - max) and its sum.
        var vMaxSplat = TLanes.Splat(max);
        var vSum = TLanes.Splat(0f);
        var sum = 0f;
        for (var i = 0; i < vectorEnd; i += count)
        {
            var e = Exp<TLanes, TVector>(TLanes.Subtract(TLanes.Load(ref Unsafe.Add(ref x, i)), vMaxSplat));
            TLanes.Store(e, ref Unsafe.Add(ref x, i));
            vSum = TLanes.Add(vSum, e);
        }
        for (var i = vectorEnd; i < n; i++)
        {
            var e = Exp<ScalarLanes, float>(Unsafe.Add(ref x, i) - max);
            Unsafe.Add(ref x, i) = e;
            sum += e;
        }
        sum += TLanes.HorizontalSum(vSum);

        // Pass 3: normalise.
        var inverse = 1f / sum;
        var vInverse = TLanes.Splat(inverse);
        for (var i = 0; i < vectorEnd; i += count)
            TLanes.Store(TLanes.Multiply(TLanes.Load(ref Unsafe.Add(ref x, i)), vInverse), ref Unsafe.Add(ref x, i));
        for (var i = vectorEnd; i < n; i++) Unsafe.Add(ref x, i) *= inverse;
    }

    /// <summary>exp(x) for x ≤ 0 (NaN stays NaN; below -87.3 gives about 1e-38 instead of less).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVector Exp<TLanes, TVector>(TVector x) where TLanes : ILanes<TVector> where TVector : struct
    {
        x = TLanes.Max(x, TLanes.Splat(MinArgument));
        var n = TLanes.Round(TLanes.Multiply(x, TLanes.Splat(Log2E)));
        var r = TLanes.MultiplyAdd(n, TLanes.Splat(-Ln2High), x);
        r = TLanes.MultiplyAdd(n, TLanes.Splat(-Ln2Low), r);
        var p = TLanes.MultiplyAdd(TLanes.Splat(1f / 720), r, TLanes.Splat(1f / 120));
        p = TLanes.MultiplyAdd(p, r, TLanes.Splat(1f / 24));
        p = TLanes.MultiplyAdd(p, r, TLanes.Splat(1f / 6));
        p = TLanes.MultiplyAdd(p, r, TLanes.Splat(0.5f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Splat(1f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Splat(1f));
        return TLanes.Multiply(p, TLanes.PowerOfTwo(n));
    }

    internal interface ILanes<TVector> where TVector : struct
    {
        static abstract int Count { get; }
        static abstract TVector Load(ref float source);
        static abstract void Store(TVector value, ref float destination);
        static abstract TVector Splat(float value);
        static abstract TVector Add(TVector a, TVector b);
        static abstract TVector Subtract(TVector a, TVector b);
        static abstract TVector Multiply(TVector a, TVector b);
        static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

        /// <summary>IEEE maximum: NaN in either operand gives NaN.</summary>
        static abstract TVector Max(TVector a, TVector b);
        static abstract TVector Round(TVector x);

        /// <summary>2^n for integral n in [-126, 127] held as floats.</summary>
        static abstract TVector PowerOfTwo(TVector n);
        static abstract float HorizontalMax(TVector x);
        static abstract float HorizontalSum(TVector x);
    }

    private readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static int Count => Vector512<float>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float value) => Vector512.Create(value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Round(Vector512<float> x) => Vector512.Round(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> PowerOfTwo(Vector512<float> n) =>
            Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float HorizontalMax(Vector512<float> x) => Lanes256.HorizontalMax(Vector256.Max(x.GetLower(), x.GetUpper()));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalSum(Vector512<float> x) => Vector512.Sum(x);
    }

    private readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static int Count => Vector256<float>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float value) => Vector256.Create(value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> x) => Vector256.Round(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> PowerOfTwo(Vector256<float> n) =>
            Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float HorizontalMax(Vector256<float> x) => Lanes128.HorizontalMax(Vector128.Max(x.GetLower(), x.GetUpper()));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalSum(Vector256<float> x) => Vector256.Sum(x);
    }

    private readonly struct Lanes128 : ILanes<Vector128<float>>
    {
        public static int Count => Vector128<float>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Splat(float value) => Vector128.Create(value);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Round(Vector128<float> x) => Vector128.Round(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> PowerOfTwo(Vector128<float> n) =>
            Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float HorizontalMax(Vector128<float> x) =>
            MathF.Max(MathF.Max(x.GetElement(0), x.GetElement(1)), MathF.Max(x.GetElement(2), x.GetElement(3)));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float HorizontalSum(Vector128<float> x) => Vector128.Sum(x);
    }

    private readonly struct ScalarLanes : ILanes<float>
    {
        public static int Count => 1;
        public static float Load(ref float source) => source;
        public static void Store(float value, ref float destination) => destination = value;
        public static float Splat(float value) => value;
        public static float Add(float a, float b) => a + b;
        public static float Subtract(float a, float b) => a - b;
        public static float Multiply(float a, float b) => a * b;
        public static float MultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
        public static float Max(float a, float b) => MathF.Max(a, b);
        public static float Round(float x) => MathF.Round(x);

        // A NaN n gives some bit pattern; the NaN in the polynomial carries through the product anyway.
        public static float PowerOfTwo(float n) => float.IsNaN(n) ? float.NaN : BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        public static float HorizontalMax(float x) => x;
        public static float HorizontalSum(float x) => x;
    }
}
