using System.Runtime.CompilerServices;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// Copies operands into the layouts the micro-kernels read sequentially.
/// Packed B: K split into depth blocks; block at depth k0 (depth kc) starts at k0 * paddedN and holds one
/// micro-panel per NR columns, each kc rows of NR floats, zero-padded past N.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs all of op(B) (K x N) in the depth-blocked panel layout; panels split over threads.</summary>
    public static void PackB(GemmConfig config, float* b, int ldb, bool transB, int k, int n, float* destination, int threads)
    {
        if (k == 0 || n == 0) return;
        var nr = config.NR;
        var kb = config.DepthBlock(k);
        var panels = (n + nr - 1) / nr;
        var blocks = (k + kb - 1) / kb;
        var paddedN = panels * nr;
        var total = panels * blocks;
        // Packing is memory-bound; only large operands are worth a second thread.
        if ((long)k * n < 64 * 1024) threads = 1;
        GemmParallel.For(total, threads, item =>
        {
            var block = item / panels;
            var panel = item % panels;
            var k0 = block * kb;
            var kc = Math.Min(kb, k - k0);
            var j0 = panel * nr;
            PackBPanel(b, ldb, transB, k0, kc, j0, Math.Min(nr, n - j0), nr, destination + (nint)k0 * paddedN + (nint)panel * kc * nr);
        });
    }

    /// <summary>One micro-panel: destination[kk * nr + j] = op(B)(k0 + kk, j0 + j), zero for j &gt;= width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackBPanel(float* b, int ldb, bool transB, int k0, int kc, int j0, int width, int nr, float* destination)
    {
        if (!transB)
        {
            var source = b + (nint)k0 * ldb + j0;
            var bytes = (nuint)width * sizeof(float);
            for (var kk = 0; kk < kc; kk++)
            {
                var row = destination + (nint)kk * nr;
                Buffer.MemoryCopy(source, row, bytes, bytes);
                for (var j = width; j < nr; j++) row[j] = 0f;
                source += ldb;
            }
            return;
        }
        // op(B)(k, j) = b[j * ldb + k]: read each stored row once, scatter it down a column of the panel.
        for (var j = 0; j < width; j++)
        {
            var source = b + (nint)(j0 + j) * ldb + k0;
            var column = destination + j;
            for (var kk = 0; kk < kc; kk++) column[(nint)kk * nr] = source[kk];
        }
        if (width < nr)
            for (var kk = 0; kk < kc; kk++)
                new Span<float>(destination + (nint)kk * nr + width, nr - width).Clear();
    }
}

/// <summary>
/// Per-thread scratch, pinned and 64-byte aligned: packed B in batched runs, and X transposed for the sparse
/// kernels (aligned so that no vector load of it splits a cache line; reused so that big X do not page-fault anew).
/// </summary>
internal static unsafe class GemmScratch
{
    [ThreadStatic] private static AlignedArray<float>? t_b;
    [ThreadStatic] private static AlignedArray<float>? t_transposedX;

    public static float* B(int length) => Get(ref t_b, length);

    public static float* TransposedX(long length) =>
        length > Array.MaxLength - 16 ? throw new ArgumentException($"X is too large to transpose ({length} elements).") : Get(ref t_transposedX, (int)length);

    private static float* Get(ref AlignedArray<float>? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new AlignedArray<float>(Math.Max(length, 4096), zeroed: false);
        return buffer.Pointer;
    }
}
