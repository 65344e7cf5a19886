namespace Sparrow.Graph.Onnx;

/// <summary>Limits that keep a malformed or hostile model from exhausting memory; defaults fit real models.</summary>
public sealed record OnnxLoadOptions
{
    /// <summary>Most elements one tensor may declare.</summary>
    public long MaxTensorElements { get; init; } = 1L << 30;

    /// <summary>Most bytes all initializers together may hold.</summary>
    public long MaxTotalWeightBytes { get; init; } = 8L << 30;

    /// <summary>Most nested levels of protobuf messages (subgraphs inside attributes).</summary>
    public int MaxNestingDepth { get; init; } = 64;

    /// <summary>Most nodes in one graph.</summary>
    public int MaxNodes { get; init; } = 1_000_000;

    public static OnnxLoadOptions Default { get; } = new();
}
