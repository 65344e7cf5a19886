using System.Runtime.Intrinsics;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Sparse;

/// <summary>Pieces the CSR and BSR kernels share: argument checks, work split by non-zeros, X transposed into tiles.</summary>
internal static unsafe class CsrKernelSupport
{
    /// <summary>
    /// Widest vector, in bits, the kernels may use on this thread (1 = scalar only; 0 = no limit), so that tests
    /// run every path on any machine. Read on the calling thread when a multiply starts.
    /// </summary>
    [ThreadStatic] internal static int WidthLimitForTests;

    /// <summary>The widest vector width, in bits, the kernels use for this call: 512, 256, 128 or 1 (scalar).</summary>
    public static int Width()
    {
        var limit = WidthLimitForTests == 0 ? 512 : WidthLimitForTests;
        if (limit >= 512 && Vector512.IsHardwareAccelerated) return 512;
        if (limit >= 256 && Vector256.IsHardwareAccelerated) return 256;
        if (limit >= 128 && Vector128.IsHardwareAccelerated) return 128;
        return 1;
    }

    public static void CheckMultiply(ISparseMatrix w, int xLength, int m, int yLength, int biasLength)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), $"The row count of X must not be negative (m={m}).");
        if (xLength < (long)m * w.Columns) throw new ArgumentException($"X has {xLength} elements; {m} rows of {w.Columns} need {(long)m * w.Columns}.");
        if (yLength < (long)m * w.Rows) throw new ArgumentException($"Y has {yLength} elements; {m} rows of {w.Rows} need {(long)m * w.Rows}.");
        if (biasLength != 0 && biasLength < w.Rows) throw new ArgumentException($"The bias has {biasLength} elements; it needs {w.Rows} (one per output).");
    }

    /// <summary>
    /// Splits <paramref name="rows"/> (block) rows into at most <paramref name="parts"/> contiguous ranges of about
    /// equal cost, where a row costs its non-zeros plus one (the fixed work of writing its output).
    /// </summary>
    public static int[] SplitByNonZeros(int[] rowPointers, int rows, int parts)
    {
        parts = Math.Max(1, Math.Min(parts, rows));
        var total = (long)rowPointers[rows] + rows;
        var bounds = new int[parts + 1];
        bounds[parts] = rows;
        for (var p = 1; p < parts; p++)
        {
            var target = total * p / parts;
            // First row r whose cumulative cost rowPointers[r] + r reaches the target.
            int lo = bounds[p - 1], hi = rows;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if ((long)rowPointers[mid] + mid < target) lo = mid + 1; else hi = mid;
            }
            bounds[p] = lo;
        }
        return bounds;
    }

    /// <summary>
    /// The threads worth waking for <paramref name="multiplyAdds"/> scalar multiply-adds: waking a pool thread costs
    /// microseconds, as much as a small product itself (a 90%-sparse 384x384 weight times one row ran 2.7x slower
    /// on two threads than on one), so small products stay on the calling thread.
    /// </summary>
    public static int UsefulThreads(int threads, long multiplyAdds) =>
        (int)Math.Clamp(multiplyAdds / (128 * 1024), 1, Math.Max(1, threads));

    /// <summary>Chunks per thread: a few, so a delayed thread only takes fewer of them.</summary>
    public static int Parts(int threads) => threads <= 1 ? 1 : 4 * threads;

    /// <summary>
    /// X [m, columns] transposed into tiles of <paramref name="width"/> rows: tile t holds xT[k, lane] = X[t*width + lane, k]
    /// for k below <paramref name="paddedColumns"/>, zero past m and past columns, so a weight w[r, k] multiplies a
    /// contiguous vector of X's rows. The tiles live in the calling thread's scratch: valid until its next call.
    /// </summary>
    public static float* TransposeTiles(float* x, int m, int columns, int paddedColumns, int width, int threads, out int tiles)
    {
        var tileCount = (m + width - 1) / width;
        tiles = tileCount;
        var tileLength = paddedColumns * width;
        var xt = GemmScratch.TransposedX(Math.Max(1, (long)tileCount * tileLength));
        {
            // Few tiles (small m) are split along the columns too, so every thread has a share.
            var chunks = tileCount >= threads ? 1 : Math.Max(1, Math.Min(2 * threads, paddedColumns / 64));
            GemmParallel.For(tileCount * chunks, threads, item =>
            {
                int t = item / chunks, chunk = item % chunks;
                int from = (int)((long)chunk * paddedColumns / chunks), to = (int)((long)(chunk + 1) * paddedColumns / chunks);
                var tile = xt + (long)t * tileLength + (long)from * width;
                var valid = Math.Min(width, m - t * width);
                var source = x + (long)t * width * columns;
                // Through 8x8 register tiles where the tests allow vectors; zero past X's rows and columns.
                var inside = Math.Max(from, Math.Min(to, columns));
                MatrixTranspose.Transpose(source + from, columns, tile, width, valid, inside - from, WidthLimitForTests is 0 or >= 256);
                for (var k = from; k < inside; k++) new Span<float>(tile + (long)(k - from) * width + valid, width - valid).Clear();
                new Span<float>(tile + (long)(inside - from) * width, (to - inside) * width).Clear();
            });
        }
        return xt;
    }

    /// <summary>Fills Y with bias (or zero) and applies the activation: the result when W has no columns.</summary>
    public static void WriteBiasOnly(Span<float> y, int m, int rows, ReadOnlySpan<float> bias, FusedActivation activation)
    {
        for (var i = 0; i < m; i++)
        {
            var row = y.Slice(i * rows, rows);
            if (bias.IsEmpty) row.Clear(); else bias[..rows].CopyTo(row);
        }
        Activations.Apply(y[..(m * rows)], activation);
    }
}
