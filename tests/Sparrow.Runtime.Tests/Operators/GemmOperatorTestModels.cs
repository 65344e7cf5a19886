using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

/// <summary>Builds one-node models and runs them, for the MatMul, Gemm, Conv and Linear tests.</summary>
internal static class GemmOperatorTestModels
{
    /// <param name="inputs">Fed at run time, in the node's input order (null: an omitted optional input).</param>
    /// <param name="constants">Initializers, by name; a name listed in both is an initializer the caller overrides.</param>
    public static Tensor RunNode(string opType, (string Name, Tensor? Value)[] inputs, Dictionary<string, Tensor>? constants = null,
        NodeAttribute[]? attributes = null, string domain = "", long opset = 17, int threads = 1)
    {
        var graph = new ModelGraph { Name = opType };
        var node = new Node(opType, inputs.Select(i => i.Name), ["y"], "n", domain);
        if (attributes is not null) node.Attributes.AddRange(attributes);
        graph.Nodes.Add(node);
        var feeds = new Dictionary<string, Tensor>();
        foreach (var (name, value) in inputs)
        {
            if (name.Length == 0) continue;
            if (constants?.ContainsKey(name) == true && value is null) continue;
            graph.Inputs.Add(new ValueInfo(name, value!.ElementType, null));
            feeds[name] = value;
        }
        if (constants is not null)
            foreach (var (name, value) in constants) graph.Initializers[name] = value;
        graph.Outputs.Add(new ValueInfo("y", DataType.Undefined, null));
        var model = new Model(graph);
        model.OpsetImports[""] = opset;
        if (domain.Length > 0) model.OpsetImports[domain] = 1;
        using var session = new InferenceSession(model, new SessionOptions { OptimizeGraph = false, IntraOpThreads = threads });
        return session.Run(feeds)["y"];
    }

    public static Tensor<float> Random(Random random, params int[] shape)
    {
        var t = Tensor<float>.Allocate(shape);
        var s = t.Span;
        for (var i = 0; i < s.Length; i++) s[i] = (float)(random.NextDouble() * 2 - 1);
        return t;
    }

    public static void AssertClose(double[] expected, Tensor actual, int[] shape, string label, double tolerance = 1e-4)
    {
        Assert.True(actual.Shape.SequenceEqual(shape), $"{label}: shape {TensorShape.Format(actual.Shape)}, expected {TensorShape.Format(shape)}");
        var a = actual.As<float>().Span;
        Assert.Equal(expected.Length, a.Length);
        for (var i = 0; i < expected.Length; i++)
            if (!(Math.Abs(a[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"{label}: element {i} is {a[i]}, expected {expected[i]}");
    }
}
