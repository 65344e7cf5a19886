namespace Sparrow.Pruning;

/// <summary>What pruning did to one weight.</summary>
public sealed record LayerSparsity(string WeightName, string OpType, int[] Shape, long Parameters, long Zeros)
{
    /// <summary>Zeros / Parameters, in [0, 1]; 0 for an empty weight.</summary>
    public double Sparsity => Parameters == 0 ? 0 : (double)Zeros / Parameters;

    /// <summary>The sparsity asked for this weight; null when a global threshold set it (then only the total has a target).</summary>
    public double? TargetSparsity { get; init; }

    /// <summary>The pattern its mask follows ("unstructured", "2:4", "1x4").</summary>
    public string Pattern { get; init; } = "unstructured";
}
