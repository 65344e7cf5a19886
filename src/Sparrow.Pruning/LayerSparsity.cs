namespace Sparrow.Pruning;

/// <summary>What pruning did to one weight.</summary>
public sealed record LayerSparsity(string WeightName, string OpType, int[] Shape, long Parameters, long Zeros)
{
    public double Sparsity => Parameters == 0 ? 0 : (double)Zeros / Parameters;
}
