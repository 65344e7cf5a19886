namespace Sparrow.Pruning.Tests;

public sealed class MaskSelectorTests
{
    private static float[] RandomScores(int count, int seed, float scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() * scale).ToArray();
    }

    [Theory]
    [InlineData(1, 1, 0.0)]
    [InlineData(7, 13, 0.5)]
    [InlineData(16, 64, 0.9)]
    [InlineData(33, 17, 0.29)]
    [InlineData(5, 100, 0.999)]
    public void Unstructured_prunes_exactly_the_count_and_only_the_lowest(int rows, int columns, double sparsity)
    {
        var scores = RandomScores(rows * columns, rows * 31 + columns);
        var keep = MaskSelector.Select(scores, rows, columns, PruningPattern.Unstructured, sparsity);
        var expected = (int)Math.Floor(sparsity * rows * columns + 1e-9);
        Assert.Equal(expected, keep.Count(k => !k));
        var keptMin = scores.Where((_, i) => keep[i]).DefaultIfEmpty(float.PositiveInfinity).Min();
        var prunedMax = scores.Where((_, i) => !keep[i]).DefaultIfEmpty(float.NegativeInfinity).Max();
        Assert.True(prunedMax <= keptMin);
    }

    [Fact]
    public void Per_row_scope_prunes_the_same_count_in_every_row()
    {
        // Rows of very different scales: per layer would empty the small rows, per row prunes each alike.
        const int rows = 6, columns = 40;
        var scores = new float[rows * columns];
        for (var r = 0; r < rows; r++) RandomScores(columns, r, MathF.Pow(10, r)).CopyTo(scores, r * columns);
        var keep = MaskSelector.Select(scores, rows, columns, PruningPattern.Unstructured, 0.25, ComparisonScope.OutputRow);
        for (var r = 0; r < rows; r++)
        {
            var row = keep.AsSpan(r * columns, columns).ToArray();
            Assert.Equal(10, row.Count(k => !k));
            var rowScores = scores.AsSpan(r * columns, columns).ToArray();
            Assert.True(rowScores.Where((_, i) => !row[i]).Max() <= rowScores.Where((_, i) => row[i]).Min());
        }
        var perLayer = MaskSelector.Select(scores, rows, columns, PruningPattern.Unstructured, 0.25);
        Assert.Equal(60, perLayer.Count(k => !k));
        Assert.Equal(columns, perLayer.AsSpan(0, columns).ToArray().Count(k => !k));
    }

    [Theory]
    [InlineData(2, 4, 3, 16)]
    [InlineData(4, 8, 5, 64)]
    [InlineData(1, 4, 2, 8)]
    [InlineData(3, 5, 4, 20)]
    [InlineData(1, 2, 1, 2)]
    public void NM_keeps_exactly_N_of_every_group_the_highest(int n, int m, int rows, int columns)
    {
        var scores = RandomScores(rows * columns, n * 100 + m);
        var pattern = PruningPattern.NM(n, m);
        var keep = MaskSelector.Select(scores, rows, columns, pattern, 1 - (double)n / m);
        for (var g = 0; g < keep.Length; g += m)
        {
            var group = keep.AsSpan(g, m).ToArray();
            Assert.Equal(n, group.Count(k => k));
            var s = scores.AsSpan(g, m).ToArray();
            Assert.True(s.Where((_, i) => !group[i]).Max() <= s.Where((_, i) => group[i]).Min());
        }
    }

    [Fact]
    public void NM_ties_go_by_position_and_a_different_sparsity_is_an_error()
    {
        var keep = MaskSelector.Select(new float[] { 1, 1, 1, 1, 0, 5, 5, 0 }, 1, 8, PruningPattern.NM(2, 4), 0.5);
        Assert.Equal(new[] { false, false, true, true, false, true, true, false }, keep);
        var e = Assert.Throws<PruningRequestException>(() => MaskSelector.Select(new float[8], 1, 8, PruningPattern.NM(2, 4), 0.7));
        Assert.Contains("fixes the sparsity at 0.5", e.Message);
    }

    [Theory]
    [InlineData(1, 4, 8, 32, 0.5)]
    [InlineData(4, 4, 16, 16, 0.7)]
    [InlineData(2, 3, 6, 9, 0.4)]
    [InlineData(4, 1, 8, 5, 0.9)]
    public void Blocks_are_all_or_nothing_and_whole_blocks_are_counted(int br, int bc, int rows, int columns, double sparsity)
    {
        foreach (var reduction in new[] { BlockScoreReduction.Sum, BlockScoreReduction.L2 })
        {
            var scores = RandomScores(rows * columns, br * 7 + bc);
            var pattern = PruningPattern.Block(br, bc);
            var keep = MaskSelector.Select(scores, rows, columns, pattern, sparsity, blockScore: reduction);
            var blocks = rows / br * (columns / bc);
            var prunedBlocks = 0;
            var blockScores = new List<(double Score, bool Kept)>();
            for (var r0 = 0; r0 < rows; r0 += br)
                for (var c0 = 0; c0 < columns; c0 += bc)
                {
                    var members = new List<int>();
                    for (var r = r0; r < r0 + br; r++)
                        for (var c = c0; c < c0 + bc; c++) members.Add(r * columns + c);
                    Assert.True(members.All(i => keep[i]) || members.All(i => !keep[i]), $"block at {r0},{c0} is split");
                    if (!keep[members[0]]) prunedBlocks++;
                    var score = reduction == BlockScoreReduction.Sum ? members.Sum(i => (double)scores[i]) : Math.Sqrt(members.Sum(i => (double)scores[i] * scores[i]));
                    blockScores.Add((score, keep[members[0]]));
                }
            Assert.Equal((int)Math.Floor(sparsity * blocks + 1e-9), prunedBlocks);
            Assert.True(blockScores.Where(b => !b.Kept).Max(b => b.Score) <= blockScores.Where(b => b.Kept).Min(b => b.Score) + 1e-5);
        }
    }

    [Fact]
    public void Global_threshold_differs_from_per_layer_on_layers_of_different_scales()
    {
        var small = new LayerScores("small", RandomScores(64, 1, 0.01f), 8, 8);
        var large = new LayerScores("large", RandomScores(64, 2, 1f).Select(v => v + 0.01f).ToArray(), 8, 8);
        var global = MaskSelector.SelectGlobal([small, large], PruningPattern.Unstructured, 0.5);
        // Half of all 128: the 64 smallest are the whole small layer.
        Assert.All(global[0], k => Assert.False(k));
        Assert.All(global[1], k => Assert.True(k));
        var perLayer = MaskSelector.Select(small.Scores, 8, 8, PruningPattern.Unstructured, 0.5);
        Assert.Equal(32, perLayer.Count(k => !k));

        var blocks = MaskSelector.SelectGlobal([small, large], PruningPattern.Block(1, 4), 0.25);
        Assert.Equal(8 * 4, blocks[0].Count(k => !k) + blocks[1].Count(k => !k));
        Assert.All(blocks[1], k => Assert.True(k));
        Assert.Throws<PruningRequestException>(() => MaskSelector.SelectGlobal([small, large], PruningPattern.NM(2, 4), 0.5));
    }

    [Theory]
    [InlineData(1.0001)]
    [InlineData(-0.01)]
    [InlineData(double.NaN)]
    public void Sparsity_outside_zero_to_one_is_refused(double sparsity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MaskSelector.Select(new float[4], 2, 2, PruningPattern.Unstructured, sparsity));
    }

    [Fact]
    public void Sparsity_1_prunes_every_unit_in_every_scope_and_pattern()
    {
        var scores = Enumerable.Range(0, 32).Select(i => (float)((i * 7) % 11)).ToArray();
        foreach (var scope in new[] { ComparisonScope.Layer, ComparisonScope.OutputRow })
        {
            Assert.All(MaskSelector.Select(scores, 4, 8, PruningPattern.Unstructured, 1.0, scope), k => Assert.False(k));
            Assert.All(MaskSelector.Select(scores, 4, 8, PruningPattern.Block(2, 4), 1.0, scope), k => Assert.False(k));
        }
        var global = MaskSelector.SelectGlobal([new LayerScores("a", scores, 4, 8), new LayerScores("b", scores[..8], 2, 4)], PruningPattern.Unstructured, 1.0);
        Assert.All(global.SelectMany(m => m), k => Assert.False(k));
    }

    [Fact]
    public void Ties_and_NaN_are_deterministic()
    {
        var keep = MaskSelector.Select(new float[] { 2, 1, 1, float.NaN, 1, 3 }, 1, 6, PruningPattern.Unstructured, 0.5);
        Assert.Equal(new[] { true, false, false, false, true, true }, keep);
    }
}
