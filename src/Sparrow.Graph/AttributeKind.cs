namespace Sparrow.Graph;

/// <summary>Kinds of node attribute, numbered as ONNX numbers them.</summary>
public enum AttributeKind
{
    /// <summary>A single 32-bit float.</summary>
    Float = 1,
    /// <summary>A single 64-bit integer.</summary>
    Int = 2,
    /// <summary>A string, kept as its UTF-8 bytes.</summary>
    String = 3,
    /// <summary>A tensor.</summary>
    Tensor = 4,
    /// <summary>A subgraph (e.g. the branches of If).</summary>
    Graph = 5,
    /// <summary>A list of floats.</summary>
    Floats = 6,
    /// <summary>A list of 64-bit integers.</summary>
    Ints = 7,
    /// <summary>A list of strings.</summary>
    Strings = 8,
    /// <summary>A list of tensors.</summary>
    Tensors = 9,
    /// <summary>A list of subgraphs.</summary>
    Graphs = 10,
}
