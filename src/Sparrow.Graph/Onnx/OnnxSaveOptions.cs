namespace Sparrow.Graph.Onnx;

/// <summary>How <see cref="OnnxExporter"/> writes a model.</summary>
public sealed record OnnxSaveOptions
{
    /// <summary>File name (next to the model) for large initializers; null keeps all inside.</summary>
    public string? ExternalDataFile { get; init; }

    /// <summary>
    /// Writes each floating-point initializer that gets smaller that way as a standard ONNX sparse initializer
    /// (<c>GraphProto.sparse_initializer</c>: the non-zero values and their linear indices, in the narrowest
    /// integer type that holds them), so that the file shrinks with the sparsity. Others stay dense.
    /// See <see cref="SparseInitializers"/>.
    /// </summary>
    public bool Compact { get; init; }

    /// <summary>
    /// Optional masks (initializer name → one flag per element, row-major): under <see cref="Compact"/>, the
    /// positions a mask keeps are stored even where the value is exactly zero, so that a kept weight that
    /// happens to be 0 comes back as kept (<see cref="OnnxImporter.LoadStoredMasks(string, OnnxLoadOptions?)"/>).
    /// A masked initializer is always written sparse; a non-zero value outside its mask is an error.
    /// </summary>
    public IReadOnlyDictionary<string, bool[]>? Masks { get; init; }

    /// <summary>The default: every weight written dense, inside the model file.</summary>
    public static OnnxSaveOptions Default { get; } = new();
}
