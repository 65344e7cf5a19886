using System.Numerics.Tensors;

namespace Sparrow.Pruning.SparseGpt;

/// <summary>
/// SparseGPT (Frantar and Alistarh, 2023): prunes a layer's weight W [rows = outputs, columns = inputs K] in one
/// shot so that its output on the calibration inputs X changes little, ‖XWᵀ − XŴᵀ‖². Columns are visited in
/// order; pruning w_i costs w_i²/U_ii² (U = chol(H⁻¹) upper, H = XᵀX) and the optimal compensation subtracts
/// (w_i/U_ii)·U[i, i+1:] from the row's later weights. Masks are chosen per block of columns from the weights as
/// updated so far, so later choices see the earlier compensation: unstructured and R x C block patterns once per
/// column block, N:M at the start of each group. Rows are independent apart from the mask choice (across a pattern
/// block's rows, or across all rows with <see cref="SparseGptMaskScope.PerBlock"/>), so tiles of rows run in
/// parallel and results do not depend on the thread count.
/// </summary>
internal static class SparseGptSolver
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
        for (var i = 0; i < w.Length; i++)
        {
            if (!float.IsFinite(weight[i])) throw new ArgumentException($"The weight has a non-finite value at {i / k}, {i % k}.", "weight");
            w[i] = weight[i];
        }
        for (var c = 0; c < k; c++)
            if (factor.DeadInputs[c])
                for (var r = 0; r < rows; r++) w[(long)r * k + c] = 0;
        var kept = new bool[(long)rows * k];
        Array.Fill(kept, true);

        // Unstructured and block patterns count in pattern blocks (single weights unless blocked). The total is
        // truncated like magnitude pruning's, then spread over row groups and column blocks by differences of
        // rounded cumulative shares, so the pieces add up to the total exactly.
        var tileRows = options.PatternBlockRows;
        var tileColumns = options.PatternBlockColumns;
        var rowGroups = rows / tileRows;
        var columnGroups = k / tileColumns;
        var total = options.IsNOfM ? 0 : MaskSelector.PrunedCount((long)rowGroups * columnGroups, options.Sparsity);
        var blockSize = Math.Min(options.BlockSize, Math.Max(k, 1));
        // An N:M group or a pattern block must not straddle two blocks: it is chosen from weights it has all received.
        var unit = options.IsNOfM ? options.GroupSize : tileColumns;
        blockSize = (blockSize + unit - 1) / unit * unit;
        // Row tiles hold whole pattern blocks, so a row group's choice is made by the thread that updates it.
        var rowTile = tileRows * Math.Max(1, RowTile / tileRows);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Threads == 0 ? -1 : options.Threads };
        var tiles = (rows + rowTile - 1) / rowTile;
        var u = factor.Upper;

        for (var b0 = 0; b0 < k; b0 += blockSize)
        {
            var b1 = Math.Min(k, b0 + blockSize);
            var start = b0;
            if (!options.IsNOfM && options.MaskScope == SparseGptMaskScope.PerBlock)
            {
                var count = Share(total, b1 / tileColumns, columnGroups) - Share(total, b0 / tileColumns, columnGroups);
                SelectLowest(w, kept, k, 0, rows, tileRows, b0, b1, tileColumns, u, count);
            }

            Parallel.For(0, tiles, parallel, () => new double[rowTile * blockSize], (tile, _, errors) =>
            {
                var r0 = tile * rowTile;
                var r1 = Math.Min(rows, r0 + rowTile);
                Array.Clear(errors);
                if (!options.IsNOfM && options.MaskScope == SparseGptMaskScope.PerRow)
                    for (var r = r0; r < r1; r += tileRows)
                    {
                        var group = r / tileRows;
                        var groupTotal = Share(total, group + 1, rowGroups) - Share(total, group, rowGroups);
                        var count = Share(groupTotal, b1 / tileColumns, columnGroups) - Share(groupTotal, start / tileColumns, columnGroups);
                        SelectLowest(w, kept, k, r, r + tileRows, tileRows, start, b1, tileColumns, u, count);
                    }
                for (var j = start; j < b1; j++)
                {
                    var uRow = u.AsSpan(j * k, k);
                    var ujj = uRow[j];
                    for (var r = r0; r < r1; r++)
                    {
                        var row = w.AsSpan(r * k, k);
                        if (options.IsNOfM && (j - start) % options.GroupSize == 0)
                            SelectLowest(w, kept, k, r, r + 1, 1, j, j + options.GroupSize, 1, u, options.GroupSize - options.KeepPerGroup);
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
        if (options.IsBlocked && (rows % options.PatternBlockRows != 0 || columns % options.PatternBlockColumns != 0))
            throw new ArgumentException(
                $"{options.PatternBlockRows}x{options.PatternBlockColumns} blocks need the weight's {rows} outputs to be divisible by {options.PatternBlockRows} " +
                $"and its {columns} inputs by {options.PatternBlockColumns}.", nameof(options));
    }

    /// <summary>⌊total · part / whole⌋: cumulative shares whose differences sum exactly to the total.</summary>
    private static long Share(long total, long part, long whole) => whole == 0 ? 0 : (long)((Int128)total * part / whole);

    /// <summary>Cost of pruning w at column c: w²/U_cc².</summary>
    private static double Score(double w, double ucc) => w * w / (ucc * ucc);

    /// <summary>
    /// Marks as pruned the <paramref name="count"/> lowest-cost pattern blocks of tileRows x tileColumns weights
    /// inside rows [r0, r1) and columns [c0, c1), a block costing the sum of its weights' w²/U_cc². Ties go to
    /// the earlier block (row-group major), so the choice is repeatable.
    /// </summary>
    private static void SelectLowest(double[] w, bool[] kept, int k, int r0, int r1, int tileRows, int c0, int c1, int tileColumns, double[] u, long count)
    {
        if (count <= 0) return;
        var groupsPerRow = (c1 - c0) / tileColumns;
        var candidates = (r1 - r0) / tileRows * groupsPerRow;
        Span<double> scores = candidates <= 256 ? stackalloc double[candidates] : new double[candidates];
        Span<int> order = candidates <= 256 ? stackalloc int[candidates] : new int[candidates];
        scores.Clear();
        for (var r = r0; r < r1; r++)
            for (var c = c0; c < c1; c++)
            {
                var candidate = (r - r0) / tileRows * groupsPerRow + (c - c0) / tileColumns;
                scores[candidate] += Score(w[(long)r * k + c], u[(long)c * k + c]);
            }
        for (var i = 0; i < candidates; i++) order[i] = i;
        SortByScore(order, scores);
        for (var i = 0; i < count && i < candidates; i++)
        {
            var firstRow = r0 + order[i] / groupsPerRow * tileRows;
            var firstColumn = c0 + order[i] % groupsPerRow * tileColumns;
            for (var r = firstRow; r < firstRow + tileRows; r++)
                kept.AsSpan(r * k + firstColumn, tileColumns).Clear();
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
