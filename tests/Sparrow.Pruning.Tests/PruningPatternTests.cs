namespace Sparrow.Pruning.Tests;

public sealed class PruningPatternTests
{
    [Theory]
    [InlineData("unstructured", PatternKind.Unstructured, "unstructured")]
    [InlineData(" Unstructured ", PatternKind.Unstructured, "unstructured")]
    [InlineData("2:4", PatternKind.NM, "2:4")]
    [InlineData("4:8", PatternKind.NM, "4:8")]
    [InlineData("1:3", PatternKind.NM, "1:3")]
    [InlineData("1x4", PatternKind.Block, "1x4")]
    [InlineData("4X4", PatternKind.Block, "4x4")]
    [InlineData("2x3", PatternKind.Block, "2x3")]
    public void Parses_every_form(string text, PatternKind kind, string canonical)
    {
        var pattern = PruningPattern.Parse(text);
        Assert.Equal(kind, pattern.Kind);
        Assert.Equal(canonical, pattern.ToString());
        Assert.Equal(pattern, PruningPattern.Parse(canonical));
    }

    [Theory]
    [InlineData("dense", "is not known")]
    [InlineData("", "is not known")]
    [InlineData("4:4", "N < M")]
    [InlineData("5:4", "N < M")]
    [InlineData("0:4", "N < M")]
    [InlineData("0x4", "at least 1")]
    [InlineData("2:4:8", "is not known")]
    [InlineData("-1x4", "is not known")]
    public void Unknown_or_impossible_patterns_are_refused(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => PruningPattern.Parse(text));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void NM_implies_its_sparsity()
    {
        Assert.Equal(0.5, PruningPattern.Parse("2:4").ImpliedSparsity);
        Assert.Equal(0.75, PruningPattern.Parse("1:4").ImpliedSparsity);
        Assert.Null(PruningPattern.Parse("1x4").ImpliedSparsity);
        Assert.Null(PruningPattern.Unstructured.ImpliedSparsity);
    }

    [Fact]
    public void A_weight_that_the_pattern_does_not_tile_is_named()
    {
        var e = Assert.Throws<PruningRequestException>(() => PruningPattern.Parse("2:4").CheckFits("x", 3, 510));
        Assert.Equal("2:4 needs every target's input dimension to be divisible by 4; 'x' has 510.", e.Message);
        e = Assert.Throws<PruningRequestException>(() => PruningPattern.Parse("4x4").CheckFits("w", 6, 8));
        Assert.Contains("output dimension to be divisible by 4; 'w' has 6", e.Message);
        PruningPattern.Parse("4x4").CheckFits("w", 8, 8);
        PruningPattern.Unstructured.CheckFits("w", 7, 3);
    }
}
