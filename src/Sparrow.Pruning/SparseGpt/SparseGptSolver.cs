using System.Numerics.Tensors;

namespace Sparrow.Pruning.SparseGpt;

/// <summary>
/// SparseGPT (Frantar and Alistarh, 2023): prunes a layer's weight W [rows = outputs, columns = inputs K] in one
/// shot so that its output on the calibration inputs X changes little, ‖XWᵀ − XŴᵀ‖². Columns are visited in
/// order; pruning w_i costs w_i²/U_ii² (U = chol(H⁻¹) upper, H = XᵀX) and the optimal compensation subtracts
/// (w_i/U_ii)·U[i, i+1:] from the row's later weights. Masks are chosen per block of columns from the weights as
/// updated so far, so later choices see the earlier compensation. Rows are independent (unless the mask is chosen
/// across rows), so they run in parallel; results do not depend on the thread count.
/// </summary>
public static class SparseGptSolver
{
    private const int RowTile = 16;

    /// <summary>Prunes W [rows, columns] row-major given H = XᵀX [columns, columns] of its inputs.</summary>
    public static SparseGptResult Prune(ReadOnlySpan<float> weight, int rows, int columns, ReadOnlySpan<double> hessian, SparseGptOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateShape(weight.Length, rows, columns, options);
        return Prune(weight, rows, columns, SparseGptInverseFactor.Compute(hessian, columns, options.Damping), options);
    }

    /// <summary>Prunes W [rows, columns] row-major with a precomputed factor (shared by weights with the same input).</summary>
    public static SparseGptResult Prune(ReadOnlySpan<float> weight, int rows, int columns, SparseGptInverseFactor factor, SparseGptOptions options)
    {
        ArgumentNullException.ThrowIfNull(factor);
        ArgumentNullException.ThrowIfNull(options);
        ValidateShape(weight.Length, rows, columns, options);
        if (factor.Features != columns)
            throw new ArgumentException($"The factor is for {factor.Features} inputs but the weight has {columns} columns.", nameof(factor));

        var k = columns;
        var w = new double[(long)rows * k];
        for (long i = 0; i < w.LongLength; i++) w[i] = weight[(int)i];
        for (var c = 0; c < k; c++)
            if (factor.DeadInputs[c])
                for (var r = 0; r < rows; r++) w[(long)r * k + c] = 0;
        var kept = new bool[(long)rows * k];
        Array.Fill(kept, true);

        // Exact counts: the total is truncated like magnitude pruning's, then spread over rows and blocks by
        // differences of rounded cumulative shares, so the pieces add up to the total exactly.
        var total = options.IsNOfM ? 0 : (long)Math.Round(options.Sparsity * rows * k, MidpointRounding.ToZero);
        var blockSize = Math.Min(options.BlockSize, Math.Max(k, 1));
        // An N:M group must not straddle two blocks: its choice is made from weights the whole group has received.
        if (options.IsNOfM) blockSize = (blockSize + options.GroupSize - 1) / options.GroupSize * options.GroupSize;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Threads == 0 ? -1 : options.Threads };
        var tiles = (rows + RowTile - 1) / RowTile;
        var u = factor.Upper;

        for (var b0 = 0; b0 < k; b0 += blockSize)
        {
            var b1 = Math.Min(k, b0 + blockSize);
            var start = b0;
            if (!options.IsNOfM && options.MaskScope == SparseGptMaskScope.PerBlock)
                SelectAcrossRows(w, kept, rows, k, b0, b1, u, Share(total, b1, k) - Share(total, b0, k));

            Parallel.For(0, tiles, parallel, () => new double[RowTile * blockSize], (tile, _, errors) =>
            {
                var r0 = tile * RowTile;
                var r1 = Math.Min(rows, r0 + RowTile);
                Array.Clear(errors);
                if (!options.IsNOfM && options.MaskScope == SparseGptMaskScope.PerRow)
                    for (var r = r0; r < r1; r++)
                    {
                        var rowTotal = Share(total, r + 1, rows) - Share(total, r, rows);
                        var count = Share(rowTotal, b1, k) - Share(rowTotal, start, k);
                        SelectInRow(w, kept, r, k, start, b1, u, (int)count);
                    }
                for (var j = start; j < b1; j++)
                {
                    var uRow = u.AsSpan(j * k, k);
                    var ujj = uRow[j];
                    for (var r = r0; r < r1; r++)
                    {
                        var row = w.AsSpan(r * k, k);
                        if (options.IsNOfM && (j - start) % options.GroupSize == 0)
                            SelectInRow(w, kept, r, k, j, j + options.GroupSize, u, options.GroupSize - options.KeepPerGroup);
                        if (kept[(long)r * k + j]) continue;
                        var error = row[j] / ujj;
                        row[j] = 0;
                        if (error == 0) continue;
                        errors[(r - r0) * blockSize + (j - start)] = error;
                        // row[j+1:b1] -= error · U[j, j+1:b1]
                        TensorPrimitives.MultiplyAdd<double>(uRow[(j + 1)..b1], -error, row[(j + 1)..b1], row[(j + 1)..b1]);
                    }
                }
                // The block's errors reach the later columns at once: row[b1:] -= Σ_j error_j · U[j, b1:].
                if (b1 < k)
                    for (var r = r0; r < r1; r++)
                    {
                        var later = w.AsSpan(r * k + b1, k - b1);
                        for (var j = start; j < b1; j++)
                        {
                            var error = errors[(r - r0) * blockSize + (j - start)];
                            if (error != 0)
                                TensorPrimitives.MultiplyAdd<double>(u.AsSpan(j * k + b1, k - b1), -error, later, later);
                        }
                    }
                return errors;
            }, _ => { });
        }

        var result = new float[w.LongLength];
        long pruned = 0;
        for (long i = 0; i < w.LongLength; i++)
        {
            if (kept[i]) result[i] = (float)w[i];
            else pruned++;
        }
        return new SparseGptResult(result, kept, pruned);
    }

    private static void ValidateShape(int length, int rows, int columns, SparseGptOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (length != (long)rows * columns)
            throw new ArgumentException($"A weight of {rows}x{columns} needs {(long)rows * columns} values, got {length}.", "weight");
        if (options.IsNOfM && columns % options.GroupSize != 0)
            throw new ArgumentException(
                $"The {options.KeepPerGroup}:{options.GroupSize} pattern needs the input dimension ({columns}) to be divisible by {options.GroupSize}.", nameof(options));
    }

    /// <summary>⌊total · part / whole⌋: cumulative shares whose differences sum exactly to the total.</summary>
    private static long Share(long total, long part, long whole) => whole == 0 ? 0 : (long)((Int128)total * part / whole);

    /// <summary>Cost of pruning w at column c: w²/U_cc².</summary>
    private static double Score(double w, double ucc) => w * w / (ucc * ucc);

    /// <summary>Marks as pruned the <paramref name="count"/> lowest-cost entries of row r in columns [c0, c1); ties go to the lower column.</summary>
    private static void SelectInRow(double[] w, bool[] kept, int r, int k, int c0, int c1, double[] u, int count)
    {
        if (count <= 0) return;
        var width = c1 - c0;
        Span<double> scores = width <= 256 ? stackalloc double[width] : new double[width];
        Span<int> order = width <= 256 ? stackalloc int[width] : new int[width];
        for (var i = 0; i < width; i++)
        {
            var c = c0 + i;
            scores[i] = Score(w[(long)r * k + c], u[(long)c * k + c]);
            order[i] = i;
        }
        SortByScore(order, scores);
        for (var i = 0; i < count && i < width; i++) kept[(long)r * k + c0 + order[i]] = false;
    }

    /// <summary>The paper's unstructured choice: the <paramref name="count"/> lowest costs of the whole block, over all rows.</summary>
    private static void SelectAcrossRows(double[] w, bool[] kept, int rows, int k, int c0, int c1, double[] u, long count)
    {
        if (count <= 0) return;
        var width = c1 - c0;
        var scores = new double[rows * width];
        var order = new int[rows * width];
        for (var r = 0; r < rows; r++)
            for (var i = 0; i < width; i++)
            {
                var c = c0 + i;
                scores[r * width + i] = Score(w[(long)r * k + c], u[(long)c * k + c]);
                order[r * width + i] = r * width + i;
            }
        SortByScore(order, scores);
        for (var i = 0; i < count && i < order.Length; i++)
        {
            var index = order[i];
            kept[(long)(index / width) * k + c0 + index % width] = false;
        }
    }

    /// <summary>Orders indices by (score, index): a total order, so the outcome does not depend on the sort.</summary>
    private static void SortByScore(Span<int> order, ReadOnlySpan<double> scores)
    {
        // Sorting keys and positions together, then ordering equal keys by position, gives the total order cheaply.
        var keys = scores.ToArray();
        var positions = order.ToArray();
        Array.Sort(keys, positions);
        var start = 0;
        while (start < keys.Length)
        {
            var end = start + 1;
            while (end < keys.Length && keys[end].Equals(keys[start])) end++;
            if (end - start > 1) Array.Sort(positions, start, end - start);
            start = end;
        }
        positions.CopyTo(order);
    }
}
