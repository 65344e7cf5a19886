using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// Out-of-place transpose of a strided block: dst[j, i] = src[i, j]. The sparse kernels transpose X (so that a
/// weight multiplies a vector of X's rows) and their results back; element by element that costs as much as
/// the multiply itself at high sparsity, so full 8x8 tiles go through registers with AVX shuffles.
/// </summary>
public static unsafe class MatrixTranspose
{
    /// <summary>Transposes <paramref name="rows"/> x <paramref name="columns"/> of src (row stride srcStride) into dst (row stride dstStride).</summary>
    // Full optimisation from the first call: at tier 0 the intrinsics are calls, and the kernel choice times the
    // sparse kernels (which transpose through here) in the first moments of a process.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, long srcStride, float* dst, long dstStride, int rows, int columns, bool useVectors = true)
    {
        var j = 0;
        if (useVectors && Avx.IsSupported && rows >= 8)
        {
            // Eight rows of dst at a time, each written from start to end before the next eight: with strides
            // that are multiples of 4 KiB every row of dst falls in the same cache set, and a wider front of
            // half-written lines would evict itself.
            for (; j + 8 <= columns; j += 8)
            {
                var i = 0;
                for (; i + 8 <= rows; i += 8) Transpose8x8(src + i * srcStride + j, srcStride, dst + j * dstStride + i, dstStride);
                Scalar(src + i * srcStride, srcStride, dst + i, dstStride, rows - i, j, j + 8);
            }
        }
        Scalar(src, srcStride, dst, dstStride, rows, j, columns);
    }

    /// <summary>Columns [from, to) of <paramref name="rows"/> rows, one element at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scalar(float* src, long srcStride, float* dst, long dstStride, int rows, int from, int to)
    {
        for (var j = from; j < to; j++)
        {
            var target = dst + j * dstStride;
            for (var i = 0; i < rows; i++) target[i] = src[i * srcStride + j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, long srcStride, float* dst, long dstStride)
    {
        // Rows r0..r7 → pairs interleaved → quads → 128-bit halves swapped across registers.
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = Avx.LoadVector256(src + 4 * srcStride);
        var r5 = Avx.LoadVector256(src + 5 * srcStride);
        var r6 = Avx.LoadVector256(src + 6 * srcStride);
        var r7 = Avx.LoadVector256(src + 7 * srcStride);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(s3, s7, 0x31));
    }
}
