namespace Sparrow.Pruning.Structured;

/// <summary>
/// Exactly what to remove from a transformer encoder: heads and feed-forward neurons by layer index, and whole
/// layers. Indices are those of the original model. <see cref="StructuredRemoval.Apply"/> carries it out.
/// </summary>
public sealed record StructuredPlan
{
    /// <summary>Heads to remove, by layer (0-based head indices).</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<int>> Heads { get; init; } = new Dictionary<int, IReadOnlyList<int>>();

    /// <summary>Feed-forward (intermediate) channels to remove, by layer.</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<int>> Neurons { get; init; } = new Dictionary<int, IReadOnlyList<int>>();

    /// <summary>Whole layers to remove: their input goes straight to whatever read their output.</summary>
    public IReadOnlyList<int> Layers { get; init; } = [];

    /// <summary>Whether the plan removes nothing.</summary>
    public bool IsEmpty => Layers.Count == 0 && Heads.Values.All(h => h.Count == 0) && Neurons.Values.All(n => n.Count == 0);
}
