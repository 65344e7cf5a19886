using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Tests;

public sealed class MagnitudePrunerTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(1.0)]
    public void Smallest_magnitudes_go_first_and_the_count_is_exact(double sparsity)
    {
        var random = new Random(5);
        var values = Enumerable.Range(0, 1001).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var pruned = (float[])values.Clone();
        var count = (int)Math.Round(sparsity * values.Length, MidpointRounding.ToZero);
        MagnitudePruner.PruneSmallest(pruned, count);
        Assert.Equal(count, pruned.Count(v => v == 0));
        var keptMin = pruned.Where(v => v != 0).Select(MathF.Abs).DefaultIfEmpty(float.PositiveInfinity).Min();
        var droppedMax = values.Where((v, i) => pruned[i] == 0).Select(MathF.Abs).DefaultIfEmpty(0).Max();
        Assert.True(droppedMax <= keptMin, $"dropped {droppedMax} > kept {keptMin}");
        Assert.All(pruned.Where(v => v != 0), v => Assert.Contains(v, values));
    }

    [Fact]
    public void Ties_are_broken_by_position()
    {
        var values = new float[] { 1, 1, 1, 1, 2 };
        MagnitudePruner.PruneSmallest(values, 2);
        Assert.Equal(new float[] { 0, 0, 1, 1, 2 }, values);
    }

    [Fact]
    public void MiniLm_encoder_weights_reach_the_sparsity_and_the_rest_is_untouched()
    {
        var model = OnnxImporter.Load(DefaultModel.ReadOnnx());
        var before = model.Graph.Initializers.ToDictionary(kv => kv.Key, kv => kv.Value.AsBytes().ToArray());
        var (pruned, layers) = MagnitudePruner.Prune(model, 0.9);

        // 6 layers x (Q, K, V, output, FFN up, FFN down); the pooler (the last product) and embeddings stay dense.
        Assert.Equal(36, layers.Count);
        Assert.All(layers, l => Assert.InRange(l.Sparsity, 0.8999, 0.9001));
        var prunedNames = layers.Select(l => l.WeightName).ToHashSet();
        foreach (var (name, tensor) in pruned.Graph.Initializers)
        {
            if (prunedNames.Contains(name)) continue;
            Assert.True(tensor.AsBytes().SequenceEqual(before[name]), $"{name} changed");
        }
        // The input model keeps its weights.
        foreach (var (name, tensor) in model.Graph.Initializers)
            Assert.True(tensor.AsBytes().SequenceEqual(before[name]), $"input model's {name} changed");
        Assert.DoesNotContain(layers, l => l.WeightName.Contains("embeddings", StringComparison.Ordinal));
    }

    [Fact]
    public void Pruned_mlp_still_runs_and_zero_sparsity_changes_nothing()
    {
        var graph = new ModelGraph();
        var random = new Random(2);
        float[] W(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        graph.Initializers["W1"] = Tensor<float>.FromArray(W(8 * 16), 8, 16);
        graph.Initializers["W2"] = Tensor<float>.FromArray(W(16 * 4), 16, 4);
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Fixed(1), Dimension.Fixed(8) }));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Nodes.Add(new Node("MatMul", new[] { "x", "W1" }, new[] { "h" }));
        graph.Nodes.Add(new Node("Relu", new[] { "h" }, new[] { "r" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "r", "W2" }, new[] { "y" }));
        var model = new Model(graph);

        var (same, _) = MagnitudePruner.Prune(model, 0);
        Assert.Equal(model.Graph.Initializers["W1"].As<float>().ToArray(), same.Graph.Initializers["W1"].As<float>().ToArray());

        var (pruned, layers) = MagnitudePruner.Prune(model, 0.75);
        Assert.Equal("W1", Assert.Single(layers).WeightName);
        using var session = new InferenceSession(pruned);
        var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(W(8), 1, 8) });
        using var y = outputs["y"];
        Assert.Equal(new[] { 1, 4 }, y.Shape.ToArray());
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Sparsity_outside_zero_to_one_is_refused(double sparsity)
    {
        var model = new Model(new ModelGraph());
        Assert.Throws<ArgumentOutOfRangeException>(() => MagnitudePruner.Prune(model, sparsity));
    }
}
