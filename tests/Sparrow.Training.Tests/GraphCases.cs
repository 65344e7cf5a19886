using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Training.Tests;

/// <summary>Small models for the tests: one node whose inputs are initializers (trainable or constant).</summary>
internal static class GraphCases
{
    public sealed record Input(string Name, Tensor Value, bool Trainable);

    public static Input T(string name, Tensor<float> value) => new(name, value, true);

    public static Input C(string name, Tensor value) => new(name, value, false);

    /// <summary>A model of one node; its inputs are initializers, its outputs the graph's outputs.</summary>
    public static (Model Model, string[] Parameters) OneNode(string opType, Input[] inputs, NodeAttribute[]? attributes = null,
        int outputs = 1, long opset = 17, string domain = "")
    {
        var graph = new ModelGraph { Name = opType };
        foreach (var input in inputs)
            if (input.Name.Length > 0) graph.Initializers[input.Name] = input.Value;
        var outputNames = Enumerable.Range(0, outputs).Select(i => $"y{i}").ToArray();
        var node = new Node(opType, inputs.Select(i => i.Name), outputNames, opType, domain);
        foreach (var a in attributes ?? []) node.Attributes.Add(a);
        graph.Nodes.Add(node);
        graph.Outputs.Add(new ValueInfo("y0", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = opset;
        if (domain.Length > 0) model.OpsetImports[domain] = 1;
        return (model, inputs.Where(i => i.Trainable).Select(i => i.Name).ToArray());
    }

    /// <summary>Values whose magnitude lies in [0.1, 1.1] with random signs: away from Relu's kink at 0.</summary>
    public static Tensor<float> Random(int seed, params int[] shape)
    {
        var random = new Random(seed);
        var data = new float[TensorShape.Product(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)((0.1 + random.NextDouble()) * (random.Next(2) == 0 ? -1 : 1));
        return Tensor<float>.FromArray(data, shape);
    }

    /// <summary>Positive values in [0.5, 1.5] (Sqrt, Div's denominator, Pow's base).</summary>
    public static Tensor<float> Positive(int seed, params int[] shape)
    {
        var random = new Random(seed);
        var data = new float[TensorShape.Product(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(0.5 + random.NextDouble());
        return Tensor<float>.FromArray(data, shape);
    }

    /// <summary>Distinct values 0.05 apart in a random order (MaxPool: no near ties within a window).</summary>
    public static Tensor<float> Distinct(int seed, params int[] shape)
    {
        var length = TensorShape.Product(shape);
        var order = Enumerable.Range(0, length).ToArray();
        new Random(seed).Shuffle(order);
        return Tensor<float>.FromArray(order.Select(i => (i - length / 2) * 0.05f).ToArray(), shape);
    }

    public static Tensor<long> Longs(long[] values, params int[] shape) => Tensor<long>.FromArray(values, shape);
}
