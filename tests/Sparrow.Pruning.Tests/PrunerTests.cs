using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Pruning.Tests;

public sealed class PrunerTests
{
    private static readonly Lazy<Model> MiniLm = new(() => OnnxImporter.Load(DefaultModel.ReadOnnx()));

    /// <summary>x [1, 8] → MatMul W1 [8, 16] → Relu → Gemm(transB=1) W2 [12, 16] → Relu → MatMul W3 [12, 4] (the classifier).</summary>
    private static Model Mlp(int seed = 2, float secondScale = 1, int w1In = 8)
    {
        var graph = new ModelGraph();
        var random = new Random(seed);
        float[] W(int n, float scale = 1) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5) * scale).ToArray();
        graph.Initializers["W1"] = Tensor<float>.FromArray(W(w1In * 16), w1In, 16);
        graph.Initializers["W2"] = Tensor<float>.FromArray(W(12 * 16, secondScale), 12, 16);
        graph.Initializers["W3"] = Tensor<float>.FromArray(W(12 * 4), 12, 4);
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Fixed(1), Dimension.Fixed(w1In) }));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Nodes.Add(new Node("MatMul", new[] { "x", "W1" }, new[] { "h" }));
        graph.Nodes.Add(new Node("Relu", new[] { "h" }, new[] { "r" }));
        var gemm = new Node("Gemm", new[] { "r", "W2" }, new[] { "g" });
        gemm.Attributes.Add(NodeAttribute.Int("transB", 1));
        graph.Nodes.Add(gemm);
        graph.Nodes.Add(new Node("Relu", new[] { "g" }, new[] { "s" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "s", "W3" }, new[] { "y" }));
        return new Model(graph);
    }

    private static float[] Values(Model model, string name) => model.Graph.Initializers[name].As<float>().ToArray();

    /// <summary>[out, in] of a stored MatMul [K, N] weight.</summary>
    private static float[] Transpose(float[] kByN, int k, int n)
    {
        var result = new float[kByN.Length];
        for (var r = 0; r < k; r++)
            for (var c = 0; c < n; c++) result[c * k + r] = kByN[r * n + c];
        return result;
    }

    [Fact]
    public void NM_groups_run_along_the_input_axis_of_MatMul_and_Gemm()
    {
        var model = Mlp();
        var (pruned, layers) = Pruner.Prune(model, new PruneSettings { Pattern = PruningPattern.NM(2, 4) });
        Assert.Equal(new[] { "W1", "W2" }, layers.Select(l => l.WeightName));
        Assert.All(layers, l => Assert.Equal(0.5, l.Sparsity));
        Assert.All(layers, l => Assert.Equal(0.5, l.TargetSparsity));
        var w1 = Transpose(Values(pruned, "W1"), 8, 16); // [16, 8]
        var w2 = Values(pruned, "W2"); // Gemm transB=1: already [12, 16]
        var entry = SparseKernelTable.Find("NM 2:4");
        Assert.NotNull(entry.TryCreate(w1, 16, 8, null));
        Assert.NotNull(entry.TryCreate(w2, 12, 16, null));
        // The stored MatMul layout itself is not 2:4 along its rows (groups run down K).
        Assert.Null(entry.TryCreate(Values(pruned, "W1"), 8, 16, null));
        Assert.Equal(Values(model, "W3"), Values(pruned, "W3"));
    }

    [Fact]
    public void Conv_weights_group_over_input_channels_and_kernel_positions()
    {
        var graph = new ModelGraph();
        var random = new Random(3);
        graph.Initializers["K"] = Tensor<float>.FromArray(Enumerable.Range(0, 4 * 2 * 3 * 3).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(), 4, 2, 3, 3);
        graph.Initializers["W"] = Tensor<float>.FromArray(new float[4 * 2], 4, 2);
        graph.Nodes.Add(new Node("Conv", new[] { "x", "K" }, new[] { "c" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "c", "W" }, new[] { "y" }));
        var (pruned, layers) = Pruner.Prune(new Model(graph), new PruneSettings { Pattern = PruningPattern.NM(1, 3) });
        Assert.Equal("K", Assert.Single(layers).WeightName);
        var k = Values(pruned, "K"); // [4, 18]
        for (var g = 0; g < k.Length; g += 3) Assert.Equal(1, k.AsSpan(g, 3).ToArray().Count(v => v != 0));
    }

    [Fact]
    public void Impossible_requests_fail_before_any_weight_changes()
    {
        var model = Mlp(w1In: 10);
        var e = Assert.Throws<PruningRequestException>(() => Pruner.Prune(model, new PruneSettings { Pattern = PruningPattern.NM(2, 4) }));
        Assert.Equal("2:4 needs every target's input dimension to be divisible by 4; 'W1' has 10.", e.Message);
        Assert.Throws<PruningRequestException>(() => Pruner.Prune(Mlp(), new PruneSettings { Pattern = PruningPattern.NM(2, 4), Sparsity = 0.6 }));
        Assert.Throws<PruningRequestException>(() => Pruner.Prune(Mlp(), new PruneSettings { Pattern = PruningPattern.Block(1, 4) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pruner.Prune(Mlp(), new PruneSettings { Sparsity = 1.5 }));
        Assert.Throws<PruningRequestException>(() => Pruner.Prune(Mlp(), new PruneSettings { Sparsity = 0.5, LayerSparsity = new Dictionary<string, double> { ["nope"] = 0.1 } }));
        Assert.Throws<PruningRequestException>(() => Pruner.Prune(Mlp(), new PruneSettings { Sparsity = 0.5, Targets = new TargetSelection { Include = ["("] } }));
    }

    [Fact]
    public void Targets_are_chosen_by_op_type_and_name_and_overrides_apply()
    {
        var settings = new PruneSettings { Sparsity = 0.5 };
        Assert.Equal(new[] { "W2" }, Pruner.Prune(Mlp(), settings with { Targets = new TargetSelection { OpTypes = ["Gemm"] } }).Layers.Select(l => l.WeightName));
        Assert.Equal(new[] { "W1" }, Pruner.Prune(Mlp(), settings with { Targets = new TargetSelection { Exclude = ["2$"] } }).Layers.Select(l => l.WeightName));
        Assert.Equal(new[] { "W2" }, Pruner.Prune(Mlp(), settings with { Targets = new TargetSelection { Include = ["^W[23]$"] } }).Layers.Select(l => l.WeightName));

        var (_, layers) = Pruner.Prune(Mlp(), settings with { LayerSparsity = new Dictionary<string, double> { ["W2"] = 0.25 } });
        Assert.Equal(0.5, layers[0].Sparsity);
        Assert.Equal(0.25, layers[1].Sparsity);
        Assert.Equal(0.25, layers[1].TargetSparsity);
    }

    private static IEnumerable<IReadOnlyDictionary<string, Tensor>> MlpBatches(int count = 3)
    {
        var random = new Random(7);
        for (var b = 0; b < count; b++)
            yield return new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(), 1, 8) };
    }

    /// <summary>Runs the model on one input; with W2 all zeros (no bias) every output is exactly 0.</summary>
    private static float[] RunMlp(Model model)
    {
        using var session = new InferenceSession(model);
        var outputs = session.Run(MlpBatches(1).First());
        using var y = outputs["y"];
        return y.As<float>().ToArray();
    }

    [Theory]
    [InlineData(PruningMethod.Magnitude)]
    [InlineData(PruningMethod.Random)]
    [InlineData(PruningMethod.GlobalMagnitude)]
    public void A_layer_pruned_to_100_percent_becomes_all_zeros_and_still_runs(PruningMethod method)
    {
        var settings = new PruneSettings { Method = method, Sparsity = 0.5, LayerSparsity = new Dictionary<string, double> { ["W2"] = 1 } };
        var (pruned, layers) = Pruner.Prune(Mlp(), settings);
        Assert.All(Values(pruned, "W2"), v => Assert.Equal(0f, v));
        Assert.Equal(1.0, layers[1].Sparsity);
        Assert.Equal(1.0, layers[1].TargetSparsity);
        Assert.InRange(layers[0].Sparsity, 0.49, 0.51);
        Assert.All(RunMlp(pruned), v => Assert.Equal(0f, v));

        // The whole model at 1: every target is zero, and the model still loads and runs.
        var (all, allLayers) = Pruner.Prune(Mlp(), new PruneSettings { Method = method, Sparsity = 1 });
        Assert.All(allLayers, l => Assert.Equal(1.0, l.Sparsity));
        Assert.All(RunMlp(all), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pruner.Prune(Mlp(), settings with { LayerSparsity = new Dictionary<string, double> { ["W2"] = 1.0001 } }));
    }

    [Fact]
    public void Wanda_and_SparseGpt_prune_a_layer_to_100_percent()
    {
        var settings = new PruneSettings { Sparsity = 0.5, LayerSparsity = new Dictionary<string, double> { ["W2"] = 1 } };
        var (wanda, wandaLayers) = CalibratedPruner.Wanda(Mlp(), settings, MlpBatches());
        var (sparseGpt, sparseGptLayers) = CalibratedPruner.SparseGpt(Mlp(), settings, () => MlpBatches());
        foreach (var (pruned, layers) in new[] { (wanda, wandaLayers), (sparseGpt, sparseGptLayers) })
        {
            Assert.All(Values(pruned, "W2"), v => Assert.Equal(0f, v));
            Assert.Equal(1.0, layers.Single(l => l.WeightName == "W2").Sparsity);
            Assert.InRange(layers.Single(l => l.WeightName == "W1").Sparsity, 0.49, 0.51);
            Assert.All(RunMlp(pruned), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Global_magnitude_differs_from_per_layer_when_layers_differ_in_scale()
    {
        var model = Mlp(secondScale: 0.01f);
        var (_, perLayer) = Pruner.Prune(model, new PruneSettings { Sparsity = 0.5 });
        var (_, global) = Pruner.Prune(model, new PruneSettings { Method = PruningMethod.GlobalMagnitude, Sparsity = 0.5 });
        Assert.All(perLayer, l => Assert.Equal(0.5, l.Sparsity));
        // Half of the 320 weights go, the smallest of both together: nearly all of them W2's tiny ones.
        var threshold = Values(model, "W1").Concat(Values(model, "W2")).Select(MathF.Abs).Order().ElementAt(159);
        Assert.Equal(Values(model, "W1").Count(v => MathF.Abs(v) <= threshold), global[0].Zeros);
        Assert.Equal(160, global.Sum(l => l.Zeros));
        Assert.True(global[1].Sparsity > 0.8 && global[0].Sparsity < 0.1, $"{global[0].Sparsity} {global[1].Sparsity}");
        Assert.All(global, l => Assert.Null(l.TargetSparsity));
    }

    [Fact]
    public void Random_is_deterministic_for_a_seed_and_differs_between_seeds()
    {
        var model = Mlp();
        var a = Pruner.Prune(model, new PruneSettings { Method = PruningMethod.Random, Sparsity = 0.5, Seed = 7 }).Pruned;
        var b = Pruner.Prune(model, new PruneSettings { Method = PruningMethod.Random, Sparsity = 0.5, Seed = 7 }).Pruned;
        var c = Pruner.Prune(model, new PruneSettings { Method = PruningMethod.Random, Sparsity = 0.5, Seed = 8 }).Pruned;
        Assert.Equal(Values(a, "W1"), Values(b, "W1"));
        Assert.Equal(Values(a, "W2"), Values(b, "W2"));
        Assert.NotEqual(Values(a, "W1"), Values(c, "W1"));
        Assert.Equal(64, Values(a, "W1").Count(v => v == 0));
        // Random is not magnitude: some large weights go.
        var magnitude = Pruner.Prune(model, new PruneSettings { Sparsity = 0.5 }).Pruned;
        Assert.NotEqual(Values(magnitude, "W1"), Values(a, "W1"));
    }

    [Fact]
    public void A_criterion_replaces_the_method_and_a_scope_compares_per_row()
    {
        var model = Mlp();
        var seen = new List<string>();
        // Scores that favour the last input column of each output row: only position matters.
        var settings = new PruneSettings
        {
            Sparsity = 0.5,
            Scope = ComparisonScope.OutputRow,
            Criterion = (target, weight) =>
            {
                seen.Add(target.WeightName);
                var (rows, columns) = WeightLayout.OutByInShape(target);
                Assert.Equal(rows * columns, weight.Length);
                return Enumerable.Range(0, weight.Length).Select(i => (float)(i % columns)).ToArray();
            },
        };
        var (pruned, _) = Pruner.Prune(model, settings);
        Assert.Equal(new[] { "W1", "W2" }, seen);
        var w2 = Values(pruned, "W2");
        for (var r = 0; r < 12; r++)
            for (var c = 0; c < 16; c++)
                Assert.Equal(c < 8, w2[r * 16 + c] == 0);
    }

    [Fact]
    public void Blocks_prune_whole_blocks_and_report_the_achieved_sparsity()
    {
        var (pruned, layers) = Pruner.Prune(Mlp(), new PruneSettings { Pattern = PruningPattern.Block(4, 4), Sparsity = 0.6 });
        // W1 [16 out, 8 in] has 8 blocks of 4x4: ⌊4.8⌋ = 4 pruned.
        Assert.Equal(0.5, layers[0].Sparsity);
        Assert.Equal(0.6, layers[0].TargetSparsity);
        var w1 = Transpose(Values(pruned, "W1"), 8, 16);
        Assert.NotNull(SparseKernelTable.Find("BSR 4x4").TryCreate(w1, 16, 8, null));
        for (var br = 0; br < 16; br += 4)
            for (var bc = 0; bc < 8; bc += 4)
            {
                var zeros = 0;
                for (var r = br; r < br + 4; r++)
                    for (var c = bc; c < bc + 4; c++) if (w1[r * 8 + c] == 0) zeros++;
                Assert.True(zeros is 0 or 16, $"block {br},{bc} has {zeros} zeros");
            }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.7)]
    public void MiniLm_unstructured_reaches_the_exact_count_in_every_layer(double sparsity)
    {
        var (_, layers) = Pruner.Prune(MiniLm.Value, new PruneSettings { Sparsity = sparsity });
        Assert.Equal(36, layers.Count);
        Assert.All(layers, l => Assert.Equal((long)Math.Floor(sparsity * l.Parameters), l.Zeros));
    }

    [Fact]
    public void MiniLm_pruned_2_4_is_accepted_by_the_NM_2_4_kernel_and_still_runs()
    {
        var (pruned, layers) = Pruner.Prune(MiniLm.Value, new PruneSettings { Pattern = PruningPattern.Parse("2:4") });
        Assert.Equal(36, layers.Count);
        var entry = SparseKernelTable.Find("NM 2:4");
        foreach (var layer in layers)
        {
            Assert.Equal(0.5, layer.Sparsity, 3);
            int k = layer.Shape[0], n = layer.Shape[1];
            var outByIn = Transpose(Values(pruned, layer.WeightName), k, n);
            Assert.True(entry.TryCreate(outByIn, n, k, null) is not null, $"{layer.WeightName} is not 2:4 along its inputs");
        }
        using var session = new InferenceSession(pruned);
        var ids = Tensor<long>.FromArray(new long[] { 101, 7592, 2088, 102 }, 1, 4);
        var mask = Tensor<long>.FromArray(new long[] { 1, 1, 1, 1 }, 1, 4);
        var types = Tensor<long>.FromArray(new long[4], 1, 4);
        var outputs = session.Run(new Dictionary<string, Tensor> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types });
        foreach (var o in outputs.Values)
        {
            Assert.All(o.As<float>().ToArray(), v => Assert.True(float.IsFinite(v)));
            o.Dispose();
        }
    }
}
