namespace Sparrow.Pruning.Structured;

/// <summary>One layer before and after structured pruning.</summary>
public sealed record StructuredLayerReport(int Layer, bool Removed, int HeadsBefore, int HeadsAfter, IReadOnlyList<int> RemovedHeads,
    int NeuronsBefore, int NeuronsAfter)
{
    /// <summary>1 − cosine(layer input, layer output) on calibration tokens, when layers were ranked.</summary>
    public double? Importance { get; init; }
}

/// <summary>What <see cref="StructuredPruner"/> removed and the scores it ranked by (null where that kind was not ranked).</summary>
public sealed record StructuredPruneReport(StructuredPlan Plan, IReadOnlyList<StructuredLayerReport> Layers, long ParametersBefore, long ParametersAfter)
{
    /// <summary>By layer, then head.</summary>
    public float[][]? HeadImportance { get; init; }

    /// <summary>By layer, then feed-forward neuron.</summary>
    public float[][]? NeuronImportance { get; init; }

    /// <summary>By layer: how much each layer changes its input (1 − cosine of input and output); higher is more important.</summary>
    public double[]? LayerImportance { get; init; }

    /// <summary>Heads removed from the layers that stay (a removed layer's go with it).</summary>
    public int HeadsRemoved => Layers.Where(l => !l.Removed).Sum(l => l.HeadsBefore - l.HeadsAfter);

    /// <summary>Feed-forward neurons removed from the layers that stay.</summary>
    public int NeuronsRemoved => Layers.Where(l => !l.Removed).Sum(l => l.NeuronsBefore - l.NeuronsAfter);

    /// <summary>Whole layers removed.</summary>
    public int LayersRemoved => Layers.Count(l => l.Removed);
}
