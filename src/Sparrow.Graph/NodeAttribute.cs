using Sparrow.Tensors;

namespace Sparrow.Graph;

/// <summary>A named attribute of a node. Strings are kept as bytes, as ONNX defines them.</summary>
public sealed class NodeAttribute
{
    private NodeAttribute(string name, AttributeKind kind, object value)
    {
        Name = name;
        Kind = kind;
        Value = value;
    }

    /// <summary>The attribute's name, e.g. "axis".</summary>
    public string Name { get; }

    /// <summary>What kind of value it holds, which decides the As... method to read it with.</summary>
    public AttributeKind Kind { get; }

    /// <summary>float, long, byte[], Tensor, ModelGraph, float[], long[], byte[][], Tensor[] or ModelGraph[].</summary>
    public object Value { get; }

    /// <summary>Free-form documentation of the attribute.</summary>
    public string DocString { get; set; } = "";

    /// <summary>A float attribute.</summary>
    public static NodeAttribute Float(string name, float v) => new(name, AttributeKind.Float, v);
    /// <summary>An integer attribute.</summary>
    public static NodeAttribute Int(string name, long v) => new(name, AttributeKind.Int, v);
    /// <summary>A string attribute (stored as UTF-8).</summary>
    public static NodeAttribute String(string name, string v) => new(name, AttributeKind.String, System.Text.Encoding.UTF8.GetBytes(v));
    /// <summary>A string attribute given as raw bytes.</summary>
    public static NodeAttribute Bytes(string name, byte[] v) => new(name, AttributeKind.String, v);
    /// <summary>A tensor attribute.</summary>
    public static NodeAttribute TensorValue(string name, Tensor v) => new(name, AttributeKind.Tensor, v);
    /// <summary>A subgraph attribute.</summary>
    public static NodeAttribute GraphValue(string name, ModelGraph v) => new(name, AttributeKind.Graph, v);
    /// <summary>A float list attribute.</summary>
    public static NodeAttribute Floats(string name, float[] v) => new(name, AttributeKind.Floats, v);
    /// <summary>An integer list attribute.</summary>
    public static NodeAttribute Ints(string name, long[] v) => new(name, AttributeKind.Ints, v);
    /// <summary>A string list attribute, each string as raw bytes.</summary>
    public static NodeAttribute Strings(string name, byte[][] v) => new(name, AttributeKind.Strings, v);
    /// <summary>A tensor list attribute.</summary>
    public static NodeAttribute Tensors(string name, Tensor[] v) => new(name, AttributeKind.Tensors, v);
    /// <summary>A subgraph list attribute.</summary>
    public static NodeAttribute Graphs(string name, ModelGraph[] v) => new(name, AttributeKind.Graphs, v);

    /// <summary>The value of a float attribute.</summary>
    /// <exception cref="ModelException">The attribute is of another kind.</exception>
    public float AsFloat() => Kind == AttributeKind.Float ? (float)Value : throw WrongKind(AttributeKind.Float);
    /// <summary>The value of an integer attribute.</summary>
    /// <exception cref="ModelException">The attribute is of another kind.</exception>
    public long AsInt() => Kind == AttributeKind.Int ? (long)Value : throw WrongKind(AttributeKind.Int);
    /// <summary>The value of a string attribute, decoded from UTF-8.</summary>
    /// <exception cref="ModelException">The attribute is of another kind.</exception>
    public string AsString() => Kind == AttributeKind.String ? System.Text.Encoding.UTF8.GetString((byte[])Value) : throw WrongKind(AttributeKind.String);
    /// <summary>The value of a tensor attribute.</summary>
    /// <exception cref="ModelException">The attribute is of another kind.</exception>
    public Tensor AsTensor() => Kind == AttributeKind.Tensor ? (Tensor)Value : throw WrongKind(AttributeKind.Tensor);
    /// <summary>The value of a float list attribute.</summary>
    /// <exception cref="ModelException">The attribute is of another kind.</exception>
    public float[] AsFloats() => Kind == AttributeKind.Floats ? (float[])Value : throw WrongKind(AttributeKind.Floats);
    /// <summary>The value of an integer list attribute.</summary>
    /// <exception cref="ModelException">The attribute is of another kind.</exception>
    public long[] AsInts() => Kind == AttributeKind.Ints ? (long[])Value : throw WrongKind(AttributeKind.Ints);
    /// <summary>The value of a string list attribute, each decoded from UTF-8.</summary>
    /// <exception cref="ModelException">The attribute is of another kind.</exception>
    public string[] AsStrings() => Kind == AttributeKind.Strings
        ? ((byte[][])Value).Select(b => System.Text.Encoding.UTF8.GetString(b)).ToArray()
        : throw WrongKind(AttributeKind.Strings);

    private ModelException WrongKind(AttributeKind wanted) =>
        new($"attribute '{Name}' is {Kind}, expected {wanted}");

    /// <summary>The name and kind, e.g. "axis=Int".</summary>
    public override string ToString() => $"{Name}={Kind}";
}
