using Sparrow.Graph;

namespace Sparrow.Pruning;

/// <summary>
/// Unstructured magnitude pruning, per layer: in each target weight, the given fraction of weights with the
/// smallest absolute value become zero (exactly that many; ties broken by position so results are repeatable).
/// Works on a copy: the model passed in keeps its weights.
/// </summary>
public static class MagnitudePruner
{
    /// <summary>The default path of <see cref="Pruner.Prune"/>: magnitude, unstructured, per layer.</summary>
    public static (Model Pruned, IReadOnlyList<LayerSparsity> Layers) Prune(Model model, double sparsity) =>
        Pruner.Prune(model, new PruneSettings { Method = PruningMethod.Magnitude, Sparsity = sparsity });

    /// <summary>Zeroes the <paramref name="count"/> entries of smallest magnitude.</summary>
    internal static void PruneSmallest(Span<float> values, int count)
    {
        if (count <= 0) return;
        var order = new int[values.Length];
        var keys = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            order[i] = i;
            keys[i] = MathF.Abs(values[i]);
        }
        // Sorting (magnitude, position) pairs keeps ties in position order, so the result does not depend on the sort.
        Array.Sort(keys, order);
        var start = 0;
        while (start < keys.Length)
        {
            var end = start + 1;
            while (end < keys.Length && keys[end] == keys[start]) end++;
            Array.Sort(order, start, end - start);
            start = end;
        }
        for (var i = 0; i < count && i < order.Length; i++) values[order[i]] = 0;
    }
}
