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

    public string Name { get; }

    public AttributeKind Kind { get; }

    /// <summary>float, long, byte[], Tensor, ModelGraph, float[], long[], byte[][], Tensor[] or ModelGraph[].</summary>
    public object Value { get; }

    public string DocString { get; set; } = "";

    public static NodeAttribute Float(string name, float v) => new(name, AttributeKind.Float, v);
    public static NodeAttribute Int(string name, long v) => new(name, AttributeKind.Int, v);
    public static NodeAttribute String(string name, string v) => new(name, AttributeKind.String, System.Text.Encoding.UTF8.GetBytes(v));
    public static NodeAttribute Bytes(string name, byte[] v) => new(name, AttributeKind.String, v);
    public static NodeAttribute TensorValue(string name, Tensor v) => new(name, AttributeKind.Tensor, v);
    public static NodeAttribute GraphValue(string name, ModelGraph v) => new(name, AttributeKind.Graph, v);
    public static NodeAttribute Floats(string name, float[] v) => new(name, AttributeKind.Floats, v);
    public static NodeAttribute Ints(string name, long[] v) => new(name, AttributeKind.Ints, v);
    public static NodeAttribute Strings(string name, byte[][] v) => new(name, AttributeKind.Strings, v);
    public static NodeAttribute Tensors(string name, Tensor[] v) => new(name, AttributeKind.Tensors, v);
    public static NodeAttribute Graphs(string name, ModelGraph[] v) => new(name, AttributeKind.Graphs, v);

    public float AsFloat() => Kind == AttributeKind.Float ? (float)Value : throw WrongKind(AttributeKind.Float);
    public long AsInt() => Kind == AttributeKind.Int ? (long)Value : throw WrongKind(AttributeKind.Int);
    public string AsString() => Kind == AttributeKind.String ? System.Text.Encoding.UTF8.GetString((byte[])Value) : throw WrongKind(AttributeKind.String);
    public Tensor AsTensor() => Kind == AttributeKind.Tensor ? (Tensor)Value : throw WrongKind(AttributeKind.Tensor);
    public float[] AsFloats() => Kind == AttributeKind.Floats ? (float[])Value : throw WrongKind(AttributeKind.Floats);
    public long[] AsInts() => Kind == AttributeKind.Ints ? (long[])Value : throw WrongKind(AttributeKind.Ints);
    public string[] AsStrings() => Kind == AttributeKind.Strings
        ? ((byte[][])Value).Select(b => System.Text.Encoding.UTF8.GetString(b)).ToArray()
        : throw WrongKind(AttributeKind.Strings);

    private ModelException WrongKind(AttributeKind wanted) =>
        new($"attribute '{Name}' is {Kind}, expected {wanted}");

    public override string ToString() => $"{Name}={Kind}";
}
