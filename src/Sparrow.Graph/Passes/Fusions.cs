namespace Sparrow.Graph.Passes;

/// <summary>How many of each pattern <see cref="Fusions.Apply"/> fused, and how many nodes that saved.</summary>
public sealed record FusionCounts(int LayerNorms, int Gelus, int Linears, int ActivationsFolded, int NodesRemoved, int Attentions = 0, int AddLayerNorms = 0)
{
    /// <summary>One line that lists each count, for logs and reports.</summary>
    public override string ToString() =>
        $"{LayerNorms} LayerNormalization, {Gelus} Gelu, {Linears} Linear ({ActivationsFolded} with a folded activation), {Attentions} Attention, {AddLayerNorms} AddLayerNormalization; {NodesRemoved} nodes fewer";
}

/// <summary>Pattern fusions that the runtime needs to be fast. Each pass keeps results equal up to float rounding.</summary>
public static class Fusions
{
    /// <summary>Runs every fusion in order; returns how many nodes were fused away.</summary>
    public static int Run(Model model) => Apply(model).NodesRemoved;

    /// <summary>
    /// Runs every fusion in order: LayerNorm, then GELU, then Linear, then folding of activations into Linear
    /// (so that a GELU fused first can end up inside the Linear before it), then attention (whose MatMuls
    /// have no constant weight, so Linear never takes them), then residual Adds into the layer norms after
    /// them. Shapes are inferred once first;
    /// the passes use them only to check ranks and widths.
    /// </summary>
    public static FusionCounts Apply(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var before = model.Graph.Nodes.Count;
        var graph = new FusionGraph(model, ShapeInference.Infer(model));
        var layerNorms = LayerNormFusion.Run(graph);
        var gelus = GeluFusion.Run(graph);
        var linears = LinearFusion.Run(graph);
        var folded = LinearFusion.FoldActivations(graph);
        var attentions = AttentionFusion.Run(graph);
        var addLayerNorms = AddLayerNormFusion.Run(graph);
        return new FusionCounts(layerNorms, gelus, linears, folded, before - model.Graph.Nodes.Count, attentions, addLayerNorms);
    }
}
