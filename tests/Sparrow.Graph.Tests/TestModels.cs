using Sparrow.Tensors;

namespace Sparrow.Graph.Tests;

/// <summary>Small models built in code for the import/export tests.</summary>
internal static class TestModels
{
    /// <summary>Y = Relu(X·W + B), with every attribute kind that the round trip must keep.</summary>
    public static Model Linear(int inFeatures = 16, int outFeatures = 8, int seed = 7)
    {
        var random = new Random(seed);
        var w = new float[inFeatures * outFeatures];
        for (var i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1);
        var b = Enumerable.Range(0, outFeatures).Select(i => i * 0.25f - 1).ToArray();
        var graph = new ModelGraph { Name = "linear" };
        graph.Initializers["W"] = Tensor<float>.FromArray(w, inFeatures, outFeatures);
        graph.Initializers["B"] = Tensor<float>.FromArray(b, outFeatures);
        graph.Inputs.Add(new ValueInfo("X", DataType.Float32, new[] { Dimension.Named("batch"), Dimension.Fixed(inFeatures) }));
        graph.Outputs.Add(new ValueInfo("Y", DataType.Float32, new[] { Dimension.Named("batch"), Dimension.Fixed(outFeatures) }));
        graph.Nodes.Add(new Node("MatMul", new[] { "X", "W" }, new[] { "XW" }, "matmul"));
        graph.Nodes.Add(new Node("Add", new[] { "XW", "B" }, new[] { "XWB" }, "add"));
        var relu = new Node("Relu", new[] { "XWB" }, new[] { "Y" }, "relu");
        relu.Attributes.Add(NodeAttribute.Float("f", 1.5f));
        relu.Attributes.Add(NodeAttribute.Int("i", -3));
        relu.Attributes.Add(NodeAttribute.String("s", "héllo"));
        relu.Attributes.Add(NodeAttribute.Floats("fs", new[] { float.NaN, -0.0f, 1e-30f }));
        relu.Attributes.Add(NodeAttribute.Ints("is", new[] { long.MinValue, 0, long.MaxValue }));
        relu.Attributes.Add(NodeAttribute.Strings("ss", new[] { "a"u8.ToArray(), Array.Empty<byte>() }));
        relu.Attributes.Add(NodeAttribute.TensorValue("t", Tensor<long>.FromArray(new long[] { 1, -2, 3 }, 3)));
        graph.Nodes.Add(relu);
        var model = new Model(graph) { ProducerName = "sparrow-tests", IrVersion = 8 };
        model.OpsetImports[""] = 17;
        model.MetadataProps.Add(new("author", "tests"));
        return model;
    }
}
