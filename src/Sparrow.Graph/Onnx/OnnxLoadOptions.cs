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

    /// <summary>
    /// Sparse initializers may expand to at most this many times the model file's bytes when made dense (or
    /// <see cref="MinSparseExpansionBytes"/>, whichever is larger): a few bytes of file must not force gigabytes
    /// of zeros. Pruned real models expand by about 1 / density, far below this.
    /// </summary>
    public long MaxSparseExpansion { get; init; } = 64;

    /// <summary>Dense bytes that sparse initializers may always expand to, however small the file.</summary>
    public long MinSparseExpansionBytes { get; init; } = 256L << 20;

    /// <summary>The default limits.</summary>
    public static OnnxLoadOptions Default { get; } = new();
}
