using System.Runtime.CompilerServices;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// What a micro-kernel does with its accumulators when it stores them: C = Alpha * acc + CScale * C (C is not
/// read when CScale is 0, so NaN garbage in an output being overwritten never leaks in), plus a bias per
/// column and/or per row, then an activation.
/// </summary>
internal unsafe struct Epilogue
{
    public float Alpha;

    public float CScale;

    /// <summary>Bias at the tile's first column (readable for the whole tile width), or null.</summary>
    public float* ColumnBias;

    /// <summary>Bias at the tile's first row, or null.</summary>
    public float* RowBias;

    public FusedActivation Activation;
}

/// <summary>
/// Register-blocked GEMM micro-kernels: a tile of R rows by two vectors of columns, accumulated over A read
/// in place (element (i, k) of the tile at <c>a[i * rowStride + k * depthStride]</c>, so row-major and
/// transposed A both need no packing) and a packed B micro-panel (2 vectors per k).
/// Written once, specialised by the JIT per vector width through <see cref="IVectorOps{TVector}"/>.
/// </summary>
internal static unsafe class GemmMicroKernels
{
    // The kernels skip tiered compilation (AggressiveOptimization): a session's first runs would otherwise
    // spend seconds in unoptimised tier-0 loops before the JIT promotes them.

    /// <summary>Computes a tile of <paramref name="rows"/> (at most the pack's MR) rows by 2 vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TOps, TVector>(int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, int ldc, Epilogue epilogue)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var rowBias = epilogue.RowBias;
        var r = 0;
        for (; r + 8 <= rows; r += 8)
        {
            epilogue.RowBias = rowBias == null ? null : rowBias + r;
            Rows8<TOps, TVector>(kc, a + r * rowStride, rowStride, depthStride, b, c + (nint)r * ldc, ldc, epilogue);
        }
        for (; r + 4 <= rows; r += 4)
        {
            epilogue.RowBias = rowBias == null ? null : rowBias + r;
            Rows4<TOps, TVector>(kc, a + r * rowStride, rowStride, depthStride, b, c + (nint)r * ldc, ldc, epilogue);
        }
        for (; r < rows; r++)
        {
            epilogue.RowBias = rowBias == null ? null : rowBias + r;
            Rows1<TOps, TVector>(kc, a + r * rowStride, depthStride, b, c + (nint)r * ldc, epilogue);
        }
        if (epilogue.Activation != FusedActivation.None)
            Activations.ApplyTile<TOps, TVector>(c, ldc, rows, epilogue.Activation);
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows8<TOps, TVector>(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, int ldc, in Epilogue epilogue)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        nint o1 = rowStride, o2 = 2 * rowStride, o3 = 3 * rowStride, o4 = 4 * rowStride;
        nint o5 = 5 * rowStride, o6 = 6 * rowStride, o7 = 7 * rowStride;
        TVector c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero;
        TVector c20 = TOps.Zero, c21 = TOps.Zero, c30 = TOps.Zero, c31 = TOps.Zero;
        TVector c40 = TOps.Zero, c41 = TOps.Zero, c50 = TOps.Zero, c51 = TOps.Zero;
        TVector c60 = TOps.Zero, c61 = TOps.Zero, c70 = TOps.Zero, c71 = TOps.Zero;
        for (var p = 0; p < kc; p++)
        {
            var b0 = TOps.Load(b);
            var b1 = TOps.Load(b + width);
            var x = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(x, b0, c00);
            c01 = TOps.MultiplyAdd(x, b1, c01);
            x = TOps.Broadcast(a[o1]);
            c10 = TOps.MultiplyAdd(x, b0, c10);
            c11 = TOps.MultiplyAdd(x, b1, c11);
            x = TOps.Broadcast(a[o2]);
            c20 = TOps.MultiplyAdd(x, b0, c20);
            c21 = TOps.MultiplyAdd(x, b1, c21);
            x = TOps.Broadcast(a[o3]);
            c30 = TOps.MultiplyAdd(x, b0, c30);
            c31 = TOps.MultiplyAdd(x, b1, c31);
            x = TOps.Broadcast(a[o4]);
            c40 = TOps.MultiplyAdd(x, b0, c40);
            c41 = TOps.MultiplyAdd(x, b1, c41);
            x = TOps.Broadcast(a[o5]);
            c50 = TOps.MultiplyAdd(x, b0, c50);
            c51 = TOps.MultiplyAdd(x, b1, c51);
            x = TOps.Broadcast(a[o6]);
            c60 = TOps.MultiplyAdd(x, b0, c60);
            c61 = TOps.MultiplyAdd(x, b1, c61);
            x = TOps.Broadcast(a[o7]);
            c70 = TOps.MultiplyAdd(x, b0, c70);
            c71 = TOps.MultiplyAdd(x, b1, c71);
            a += depthStride;
            b += 2 * width;
        }
        StoreRow<TOps, TVector>(c00, c01, c, 0, epilogue);
        StoreRow<TOps, TVector>(c10, c11, c + ldc, 1, epilogue);
        StoreRow<TOps, TVector>(c20, c21, c + 2 * (nint)ldc, 2, epilogue);
        StoreRow<TOps, TVector>(c30, c31, c + 3 * (nint)ldc, 3, epilogue);
        StoreRow<TOps, TVector>(c40, c41, c + 4 * (nint)ldc, 4, epilogue);
        StoreRow<TOps, TVector>(c50, c51, c + 5 * (nint)ldc, 5, epilogue);
        StoreRow<TOps, TVector>(c60, c61, c + 6 * (nint)ldc, 6, epilogue);
        StoreRow<TOps, TVector>(c70, c71, c + 7 * (nint)ldc, 7, epilogue);
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4<TOps, TVector>(int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, int ldc, in Epilogue epilogue)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        nint o1 = rowStride, o2 = 2 * rowStride, o3 = 3 * rowStride;
        TVector c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero;
        TVector c20 = TOps.Zero, c21 = TOps.Zero, c30 = TOps.Zero, c31 = TOps.Zero;
        for (var p = 0; p < kc; p++)
        {
            var b0 = TOps.Load(b);
            var b1 = TOps.Load(b + width);
            var x = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(x, b0, c00);
            c01 = TOps.MultiplyAdd(x, b1, c01);
            x = TOps.Broadcast(a[o1]);
            c10 = TOps.MultiplyAdd(x, b0, c10);
            c11 = TOps.MultiplyAdd(x, b1, c11);
            x = TOps.Broadcast(a[o2]);
            c20 = TOps.MultiplyAdd(x, b0, c20);
            c21 = TOps.MultiplyAdd(x, b1, c21);
            x = TOps.Broadcast(a[o3]);
            c30 = TOps.MultiplyAdd(x, b0, c30);
            c31 = TOps.MultiplyAdd(x, b1, c31);
            a += depthStride;
            b += 2 * width;
        }
        StoreRow<TOps, TVector>(c00, c01, c, 0, epilogue);
        StoreRow<TOps, TVector>(c10, c11, c + ldc, 1, epilogue);
        StoreRow<TOps, TVector>(c20, c21, c + 2 * (nint)ldc, 2, epilogue);
        StoreRow<TOps, TVector>(c30, c31, c + 3 * (nint)ldc, 3, epilogue);
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows1<TOps, TVector>(int kc, float* a, nint depthStride, float* b, float* c, in Epilogue epilogue)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        // Four accumulators over alternating k hide the FMA latency that two alone would expose.
        TVector c00 = TOps.Zero, c01 = TOps.Zero, d00 = TOps.Zero, d01 = TOps.Zero;
        var p = 0;
        for (; p + 2 <= kc; p += 2)
        {
            var x = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(x, TOps.Load(b), c00);
            c01 = TOps.MultiplyAdd(x, TOps.Load(b + width), c01);
            var y = TOps.Broadcast(a[depthStride]);
            d00 = TOps.MultiplyAdd(y, TOps.Load(b + 2 * width), d00);
            d01 = TOps.MultiplyAdd(y, TOps.Load(b + 3 * width), d01);
            a += 2 * depthStride;
            b += 4 * width;
        }
        if (p < kc)
        {
            var x = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(x, TOps.Load(b), c00);
            c01 = TOps.MultiplyAdd(x, TOps.Load(b + width), c01);
        }
        StoreRow<TOps, TVector>(TOps.Add(c00, d00), TOps.Add(c01, d01), c, 0, epilogue);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TOps, TVector>(TVector left, TVector right, float* c, int row, in Epilogue epilogue)
        where TOps : IVectorOps<TVector> where TVector : struct
    {
        var width = TOps.Count;
        if (epilogue.Alpha != 1f)
        {
            var alpha = TOps.Broadcast(epilogue.Alpha);
            left = TOps.Multiply(left, alpha);
            right = TOps.Multiply(right, alpha);
        }
        if (epilogue.CScale != 0f)
        {
            var scale = TOps.Broadcast(epilogue.CScale);
            left = TOps.MultiplyAdd(TOps.Load(c), scale, left);
            right = TOps.MultiplyAdd(TOps.Load(c + width), scale, right);
        }
        if (epilogue.ColumnBias != null)
        {
            left = TOps.Add(left, TOps.Load(epilogue.ColumnBias));
            right = TOps.Add(right, TOps.Load(epilogue.ColumnBias + width));
        }
        if (epilogue.RowBias != null)
        {
            var bias = TOps.Broadcast(epilogue.RowBias[row]);
            left = TOps.Add(left, bias);
            right = TOps.Add(right, bias);
        }
        TOps.Store(c, left);
        TOps.Store(c + width, right);
    }
}
