using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests.Passes;

/// <summary>Builds small graphs in code for the pass tests: inputs, initializers, nodes with generated output names.</summary>
internal sealed class PassTestGraph
{
    private int _next;

    public PassTestGraph(long opset = 13)
    {
        Model = new Model(new ModelGraph { Name = "test" });
        Model.OpsetImports[""] = opset;
    }

    public Model Model { get; }

    public ModelGraph Graph => Model.Graph;

    /// <summary>A graph input; each dimension is an int (fixed), a string (symbol) or null (unknown).</summary>
    public string Input(string name, DataType type, params object?[] dims)
    {
        Graph.Inputs.Add(new ValueInfo(name, type, dims.Select(ToDimension).ToArray()));
        return name;
    }

    public string InputOfUnknownRank(string name, DataType type = DataType.Float32)
    {
        Graph.Inputs.Add(new ValueInfo(name, type, null));
        return name;
    }

    public static Dimension ToDimension(object? d) => d switch
    {
        int i => Dimension.Fixed(i),
        long l => Dimension.Fixed(l),
        string s => Dimension.Named(s),
        null => Dimension.Unknown,
        _ => throw new ArgumentException($"not a dimension: {d}"),
    };

    public string Initializer(Tensor tensor, string? name = null)
    {
        name ??= $"c{_next++}";
        Graph.Initializers[name] = tensor;
        return name;
    }

    public string Scalar(float value) => Initializer(Tensor<float>.Scalar(value));

    public string Floats(params float[] values) => Initializer(Tensor<float>.FromArray(values, values.Length));

    public string Longs(params long[] values) => Initializer(Tensor<long>.FromArray(values, values.Length));

    /// <summary>A random float tensor (fixed seed per call site through <paramref name="seed"/>).</summary>
    public string Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[TensorShape.Product(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return Initializer(Tensor<float>.FromArray(data, shape));
    }

    /// <summary>Adds a node with one output (named automatically unless given) and returns the output name.</summary>
    public string Node(string opType, string[] inputs, string? output = null, string domain = "", params NodeAttribute[] attributes)
    {
        output ??= $"v{_next++}";
        var node = new Node(opType, inputs, new[] { output }, $"n{_next++}", domain);
        foreach (var a in attributes) node.SetAttribute(a);
        Graph.Nodes.Add(node);
        return output;
    }

    public string Node(string opType, params string[] inputs) => Node(opType, inputs, null, "");

    public string Node(string opType, string[] inputs, params NodeAttribute[] attributes) => Node(opType, inputs, null, "", attributes);

    public void Output(string name, DataType type = DataType.Float32) => Graph.Outputs.Add(new ValueInfo(name, type, null));

    public int Count(string opType, string domain = "") => Graph.Nodes.Count(n => n.OpType == opType && n.Domain == domain);

    public Node Single(string opType, string domain = "") => Graph.Nodes.Single(n => n.OpType == opType && n.Domain == domain);
}
