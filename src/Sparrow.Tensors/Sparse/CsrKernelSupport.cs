using System.Runtime.CompilerServices;
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
    /// The threads worth waking for <paramref name="multiplyAdds"/> scalar multiply-adds. A parked pool thread takes
    /// tens of microseconds to join a Parallel.For here (a 40 us loop over 8 items ran only 1.15x faster on two
    /// threads), as long as a small product takes: a 90%-sparse 384x384 weight times 64 rows (0.9M multiply-adds)
    /// took 30 us on one thread and 47 us on two. Below about a million, the calling thread works alone.
    /// </summary>
    public static int UsefulThreads(int threads, long multiplyAdds) =>
        multiplyAdds < 1_000_000 && !ThreadsForSmallWorkInTests ? 1 : Math.Max(1, threads);

    /// <summary>Lets tests run the multi-threaded paths on small matrices. Read on the calling thread.</summary>
    [ThreadStatic] internal static bool ThreadsForSmallWorkInTests;

    /// <summary>Chunks per thread: a few, so a delayed thread only takes fewer of them.</summary>
    public static int Parts(int threads) => threads <= 1 ? 1 : 4 * threads;

    /// <summary>Multiplies one tile of X's rows (transposed, see <see cref="TransposeTile"/>) by the output (block) rows [start, end).</summary>
    public delegate void TileWork(float* tile, int index, int start, int end);

    /// <summary>
    /// Runs <paramref name="work"/> over every tile of <paramref name="width"/> rows of X and every part of the
    /// output rows in <paramref name="bounds"/>. A tile written on one core and read on another costs a transfer
    /// between the cores per cache line, which made two threads slower than one (the sums of their busy times
    /// doubled), so no thread reads a tile another wrote: with at least a tile per thread, each thread transposes
    /// the tiles it takes and multiplies them by every output row; with fewer, each thread transposes every tile
    /// itself (a small copy next to the multiply) and then claims parts of the output rows one at a time.
    /// </summary>
    public static void ForEachTile(float* x, int m, int columns, int paddedColumns, int width, int threads, int[] bounds, TileWork work)
    {
        var tiles = (m + width - 1) / width;
        var vectors = WidthLimitForTests is 0 or >= 256;
        if (threads > 1 && tiles >= threads)
        {
            GemmParallel.For(tiles, threads, t =>
            {
                var tile = GemmScratch.TransposedX((long)paddedColumns * width);
                TransposeTile(x, m, columns, paddedColumns, width, t, tile, 0, paddedColumns, vectors);
                work(tile, t, bounds[0], bounds[^1]);
            });
            return;
        }
        ClaimParts(bounds.Length - 1, threads,
            () =>
            {
                var all = GemmScratch.TransposedX(Math.Max(1, (long)tiles * paddedColumns * width));
                for (var t = 0; t < tiles; t++) TransposeTile(x, m, columns, paddedColumns, width, t, all + (long)t * paddedColumns * width, 0, paddedColumns, vectors);
                return (nint)all;
            },
            (all, part) =>
            {
                for (var t = 0; t < tiles; t++) work((float*)all + (long)t * paddedColumns * width, t, bounds[part], bounds[part + 1]);
            });
    }

    /// <summary>
    /// Runs parts [0, <paramref name="parts"/>) on up to <paramref name="threads"/> threads: each thread first makes its
    /// own state with <paramref name="prepare"/> (X transposed or packed into its scratch: written by one core and read
    /// by another, X crossed between the cores a cache line at a time, which made two threads slower than one), then
    /// claims parts one at a time. Claimed, not split in fixed halves: a pool thread can take tens of microseconds to
    /// wake, as long as a small product takes, and meanwhile the calling thread goes on to the next part.
    /// </summary>
    public static void ClaimParts<TState>(int parts, int threads, Func<TState> prepare, Action<TState, int> work)
    {
        var shares = Math.Min(Math.Max(1, threads), parts);
        var next = -1;
        GemmParallel.For(shares, shares, _ =>
        {
            // A thread that arrives when every part is taken has nothing to prepare for (Parallel.For waits for it).
            if (Volatile.Read(ref next) >= parts - 1) return;
            var state = prepare();
            for (var part = Interlocked.Increment(ref next); part < parts; part = Interlocked.Increment(ref next)) work(state, part);
        });
    }

    /// <summary>
    /// Columns [from, to) of tile <paramref name="t"/> of X [m, columns]: tile[k, lane] = X[t*width + lane, k] for k
    /// below <paramref name="paddedColumns"/>, zero past m and past columns, so a weight w[r, k] multiplies a contiguous
    /// vector of X's rows. Through 8x8 register tiles when <paramref name="vectors"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeTile(float* x, int m, int columns, int paddedColumns, int width, int t, float* tile, int from, int to, bool vectors)
    {
        var valid = Math.Min(width, m - t * width);
        var source = x + (long)t * width * columns;
        var inside = Math.Max(from, Math.Min(to, columns));
        var target = tile + (long)from * width;
        MatrixTranspose.Transpose(source + from, columns, target, width, valid, inside - from, vectors);
        // Only a last, partial tile has lanes past m; a zero-length clear per column cost 3 us of a 32 x 1,536 tile.
        if (valid < width)
            for (var k = from; k < inside; k++) new Span<float>(target + (long)(k - from) * width + valid, width - valid).Clear();
        new Span<float>(target + (long)(inside - from) * width, (to - inside) * width).Clear();
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
