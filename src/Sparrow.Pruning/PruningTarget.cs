using Sparrow.Graph;

namespace Sparrow.Pruning;

/// <summary>One weight that a pruner may sparsify: the initializer and the node that multiplies by it.</summary>
/// <param name="ReductionAxis">The axis of the weight that runs over input features (K of a MatMul's [K, N] weight).</param>
public sealed record PruningTarget(string WeightName, Node Node, int[] Shape, int ReductionAxis);

/// <summary>
/// Chooses the weights to prune. By default every 2-D MatMul weight, every Gemm B and every Conv weight that is
/// a constant, except embeddings (tables read by Gather) and the final classifier (the last matrix product
/// of the graph), whose pruning costs the most quality for the least saving.
/// </summary>
public static class PruningTargets
{
    /// <summary>The default targets of <paramref name="graph"/>, in graph order.</summary>
    public static IReadOnlyList<PruningTarget> Find(ModelGraph graph)
    {
        var gathered = new HashSet<string>(graph.Nodes.Where(n => n.OpType == "Gather" && n.Inputs.Count > 0).Select(n => n.Inputs[0]));
        var inputs = new HashSet<string>(graph.Inputs.Select(i => i.Name));
        var targets = new List<PruningTarget>();
        foreach (var node in graph.Nodes)
        {
            if (node.Domain.Length != 0) continue;
            var (weight, axis) = node.OpType switch
            {
                "MatMul" when node.Inputs.Count == 2 => (node.Inputs[1], 0),
                "Gemm" when node.Inputs.Count >= 2 => (node.Inputs[1], node.GetInt("transB", 0) == 1 ? 1 : 0),
                "Conv" when node.Inputs.Count >= 2 => (node.Inputs[1], 1),
                _ => ("", 0),
            };
            if (weight.Length == 0 || inputs.Contains(weight) || gathered.Contains(weight)) continue;
            if (!graph.Initializers.TryGetValue(weight, out var tensor) || tensor.ElementType != Tensors.DataType.Float32) continue;
            if (node.OpType != "Conv" && tensor.Rank != 2) continue;
            targets.Add(new PruningTarget(weight, node, tensor.CopyShape(), axis));
        }
        // The last matrix product feeds the output directly: leave it dense.
        if (targets.Count > 1) targets.RemoveAt(targets.Count - 1);
        return targets;
    }

    /// <summary>
    /// The embedding tables: constant 2-D float tables that a Gather reads rows of (axis 0). Not targets by default
    /// (<see cref="TargetSelection.Embeddings"/> adds them). Each row is one token's vector, so a table [V, D] is
    /// pruned as [out = V, in = D]: N:M groups and blocks run along the embedding dimension.
    /// </summary>
    public static IReadOnlyList<PruningTarget> FindEmbeddings(ModelGraph graph)
    {
        var inputs = new HashSet<string>(graph.Inputs.Select(i => i.Name));
        var targets = new List<PruningTarget>();
        foreach (var node in graph.Nodes)
        {
            if (node.Domain.Length != 0 || node.OpType != "Gather" || node.Inputs.Count < 2 || node.GetInt("axis", 0) != 0) continue;
            var table = node.Inputs[0];
            if (inputs.Contains(table) || !graph.Initializers.TryGetValue(table, out var tensor)) continue;
            if (tensor.ElementType != Tensors.DataType.Float32 || tensor.Rank != 2) continue;
            targets.Add(new PruningTarget(table, node, tensor.CopyShape(), ReductionAxis: 1));
        }
        return targets;
    }
}
