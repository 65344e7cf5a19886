namespace Sparrow.Pruning;

/// <summary>Which weights compete with which when the lowest scores are pruned.</summary>
public enum ComparisonScope
{
    /// <summary>All weights (or blocks) of one layer; the layer reaches the sparsity.</summary>
    Layer,

    /// <summary>Within each output row (each row of blocks for a block pattern), as Wanda compares; every row reaches the sparsity.</summary>
    OutputRow,

    /// <summary>One threshold across every layer pruned together: scores are compared as they are, and layers end up with different sparsities.</summary>
    Global,
}

/// <summary>How a block's score is made from its members' scores.</summary>
public enum BlockScoreReduction
{
    /// <summary>The sum of the members' scores.</summary>
    Sum,
    /// <summary>The L2 norm of the members' scores.</summary>
    L2,
}

/// <summary>The scores of one weight, seen as [Rows = out, Columns = in] row-major; higher = keep.</summary>
internal sealed record LayerScores(string Name, float[] Scores, int Rows, int Columns);

/// <summary>
/// Turns scores into a keep-mask that follows a <see cref="PruningPattern"/> and prunes exactly the requested count:
/// ⌊sparsity · units⌋ of the lowest-scoring units (weights, or whole blocks) per scope, or exactly N kept in every
/// group of M. Ties are broken by position (the earlier goes first), so the mask depends only on the scores.
/// NaN scores count as the lowest.
/// </summary>
public static class MaskSelector
{
    /// <summary>⌊sparsity · units⌋, with a little slack so that 0.29 · 100 is 29 and not 28 by rounding error.</summary>
    public static long PrunedCount(long units, double sparsity) => Math.Min(units, (long)Math.Floor(sparsity * units + 1e-9));

    /// <summary>The keep-mask (true = kept) of one weight, [rows, columns] row-major.</summary>
    public static bool[] Select(ReadOnlySpan<float> scores, int rows, int columns, PruningPattern pattern, double sparsity,
        ComparisonScope scope = ComparisonScope.Layer, BlockScoreReduction blockScore = BlockScoreReduction.Sum, string name = "weight")
    {
        CheckArguments(scores.Length, rows, columns, pattern, sparsity, name);
        var keep = new bool[scores.Length];
        Array.Fill(keep, true);
        switch (pattern.Kind)
        {
            case PatternKind.NM:
                SelectNM(scores, pattern.N, pattern.M, keep);
                break;
            case PatternKind.Unstructured:
                PruneLowest(scores, rows, columns, sparsity, scope, keep);
                break;
            default:
                var (blockScores, blockRows, blockColumns) = BlockScores(scores, rows, columns, pattern, blockScore);
                var keepBlocks = new bool[blockScores.Length];
                Array.Fill(keepBlocks, true);
                PruneLowest(blockScores, blockRows, blockColumns, sparsity, scope, keepBlocks);
                ExpandBlocks(keepBlocks, blockColumns, pattern, columns, keep);
                break;
        }
        return keep;
    }

    /// <summary>
    /// Masks for several weights pruned against one threshold: ⌊sparsity · all units⌋ of the lowest-scoring units
    /// across all of them, ties broken by layer order then position. N:M has no global form (every group keeps N).
    /// </summary>
    internal static IReadOnlyList<bool[]> SelectGlobal(IReadOnlyList<LayerScores> layers, PruningPattern pattern, double sparsity,
        BlockScoreReduction blockScore = BlockScoreReduction.Sum)
    {
        if (pattern.Kind == PatternKind.NM)
            throw new PruningRequestException($"A global threshold cannot apply to {pattern}: every group of {pattern.M} keeps {pattern.N} in any case; prune per layer.");
        foreach (var l in layers) CheckArguments(l.Scores.Length, l.Rows, l.Columns, pattern, sparsity, l.Name);

        // Units (weights or blocks) of every layer, one after another.
        var unitScores = new List<float[]>();
        foreach (var l in layers)
            unitScores.Add(pattern.Kind == PatternKind.Block ? BlockScores(l.Scores, l.Rows, l.Columns, pattern, blockScore).Scores : l.Scores);
        var total = unitScores.Sum(s => (long)s.Length);
        if (total > Array.MaxLength) throw new PruningRequestException($"A global threshold over {total} weights is more than one array can rank; prune per layer.");
        var all = new float[total];
        var offset = 0;
        foreach (var s in unitScores)
        {
            s.CopyTo(all, offset);
            offset += s.Length;
        }
        var keepAll = new bool[total];
        Array.Fill(keepAll, true);
        PruneLowestOf(all, PrunedCount(total, sparsity), keepAll, 0);

        var masks = new List<bool[]>();
        offset = 0;
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            var units = keepAll.AsSpan(offset, unitScores[i].Length);
            offset += unitScores[i].Length;
            if (pattern.Kind != PatternKind.Block)
            {
                masks.Add(units.ToArray());
                continue;
            }
            var keep = new bool[l.Scores.Length];
            ExpandBlocks(units, l.Columns / pattern.BlockColumns, pattern, l.Columns, keep);
            masks.Add(keep);
        }
        return masks;
    }

    private static void CheckArguments(int length, int rows, int columns, PruningPattern pattern, double sparsity, string name)
    {
        if (rows < 0 || columns < 0 || (long)rows * columns != length)
            throw new ArgumentException($"'{name}': {length} scores do not make a [{rows}, {columns}] matrix.");
        CheckSparsity(sparsity, pattern);
        pattern.CheckFits(name, rows, columns);
    }

    /// <summary>
    /// Refuses a sparsity outside [0, 1], and one that differs from what an N:M pattern implies. A sparsity of 1
    /// prunes every weight of the layer (it becomes all zeros, which the runtime runs as an empty sparse matrix).
    /// </summary>
    public static void CheckSparsity(double sparsity, PruningPattern pattern)
    {
        if (double.IsNaN(sparsity) || sparsity < 0 || sparsity > 1)
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, $"Sparsity must be between 0 and 1 (both included), got {sparsity}.");
        if (pattern.ImpliedSparsity is { } implied && Math.Abs(implied - sparsity) > 1e-9)
            throw new PruningRequestException($"Pattern {pattern} fixes the sparsity at {implied:0.###}; a sparsity of {sparsity} cannot be met (leave it out).");
    }

    private static void PruneLowest(ReadOnlySpan<float> scores, int rows, int columns, double sparsity, ComparisonScope scope, bool[] keep)
    {
        if (scope != ComparisonScope.OutputRow)
        {
            PruneLowestOf(scores, PrunedCount(scores.Length, sparsity), keep, 0);
            return;
        }
        var perRow = PrunedCount(columns, sparsity);
        for (var r = 0; r < rows; r++) PruneLowestOf(scores.Slice(r * columns, columns), perRow, keep, r * columns);
    }

    /// <summary>Clears keep[offset + i] for the <paramref name="count"/> lowest (score, i) pairs.</summary>
    private static void PruneLowestOf(ReadOnlySpan<float> scores, long count, bool[] keep, int offset)
    {
        if (count <= 0) return;
        var keys = new float[scores.Length];
        var order = new int[scores.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            var s = scores[i];
            keys[i] = float.IsNaN(s) ? float.NegativeInfinity : s;
            order[i] = i;
        }
        Array.Sort(keys, order);
        // Runs of equal scores are put back in position order, so which of them go does not depend on the sort.
        var start = 0;
        while (start < count)
        {
            var end = start + 1;
            while (end < keys.Length && keys[end] == keys[start]) end++;
            if (end - start > 1) Array.Sort(order, start, end - start);
            start = end;
        }
        for (var i = 0; i < count; i++) keep[offset + order[i]] = false;
    }

    /// <summary>In every group of M consecutive columns, keeps the N highest scores (the later position wins a tie, as the earlier goes first).</summary>
    private static void SelectNM(ReadOnlySpan<float> scores, int n, int m, bool[] keep)
    {
        var group = new int[m];
        var prune = m - n;
        for (var start = 0; start < scores.Length; start += m)
        {
            for (var i = 0; i < m; i++) group[i] = i;
            // Insertion sort of M (small) positions by (score, position).
            for (var i = 1; i < m; i++)
            {
                var g = group[i];
                var key = Key(scores[start + g]);
                var j = i - 1;
                while (j >= 0 && Key(scores[start + group[j]]) > key)
                {
                    group[j + 1] = group[j];
                    j--;
                }
                group[j + 1] = g;
            }
            for (var i = 0; i < prune; i++) keep[start + group[i]] = false;
        }
    }

    private static float Key(float score) => float.IsNaN(score) ? float.NegativeInfinity : score;

    private static (float[] Scores, int Rows, int Columns) BlockScores(ReadOnlySpan<float> scores, int rows, int columns, PruningPattern pattern, BlockScoreReduction reduction)
    {
        int br = pattern.BlockRows, bc = pattern.BlockColumns;
        int blockRows = rows / br, blockColumns = columns / bc;
        var sums = new double[blockRows * blockColumns];
        for (var r = 0; r < rows; r++)
        {
            var line = scores.Slice(r * columns, columns);
            var blockLine = (r / br) * blockColumns;
            for (var c = 0; c < columns; c++)
            {
                double s = line[c];
                sums[blockLine + c / bc] += reduction == BlockScoreReduction.L2 ? s * s : s;
            }
        }
        var result = new float[sums.Length];
        for (var i = 0; i < sums.Length; i++) result[i] = (float)(reduction == BlockScoreReduction.L2 ? Math.Sqrt(sums[i]) : sums[i]);
        return (result, blockRows, blockColumns);
    }

    private static void ExpandBlocks(ReadOnlySpan<bool> keepBlocks, int blockColumns, PruningPattern pattern, int columns, bool[] keep)
    {
        for (var i = 0; i < keep.Length; i++)
        {
            int r = i / columns, c = i % columns;
            keep[i] = keepBlocks[(r / pattern.BlockRows) * blockColumns + c / pattern.BlockColumns];
        }
    }
}
