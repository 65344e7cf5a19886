namespace Sparrow.Graph;

/// <summary>Kinds of node attribute, numbered as ONNX numbers them.</summary>
public enum AttributeKind
{
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
}
