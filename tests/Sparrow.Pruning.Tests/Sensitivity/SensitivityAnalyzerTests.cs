using Sparrow.Graph;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Sensitivity;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Tests.Sensitivity;

public sealed class SensitivityAnalyzerTests
{
    /// <summary>x [4, 16] → MatMul W1 [16, 32] → Relu → MatMul W2 [32, 24] → Relu → MatMul W3 [24, 8] (the classifier, left dense).</summary>
    private static Model Mlp(float secondScale = 1)
    {
        var graph = new ModelGraph();
        var random = new Random(11);
        float[] W(int n, float scale = 1) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5) * scale).ToArray();
        graph.Initializers["W1"] = Tensor<float>.FromArray(W(16 * 32), 16, 32);
        graph.Initializers["W2"] = Tensor<float>.FromArray(W(32 * 24, secondScale), 32, 24);
        graph.Initializers["W3"] = Tensor<float>.FromArray(W(24 * 8), 24, 8);
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Fixed(4), Dimension.Fixed(16) }));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Nodes.Add(new Node("MatMul", new[] { "x", "W1" }, new[] { "h" }, "first/MatMul"));
        graph.Nodes.Add(new Node("Relu", new[] { "h" }, new[] { "r" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "r", "W2" }, new[] { "g" }));
        graph.Nodes.Add(new Node("Relu", new[] { "g" }, new[] { "s" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "s", "W3" }, new[] { "y" }));
        return new Model(graph);
    }

    private static IReadOnlyList<IReadOnlyDictionary<string, Tensor>> Inputs(int count = 3)
    {
        var random = new Random(5);
        return Enumerable.Range(0, count).Select(_ => (IReadOnlyDictionary<string, Tensor>)new Dictionary<string, Tensor>
        {
            ["x"] = Tensor<float>.FromArray(Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), 4, 16),
        }).ToArray();
    }

    [Fact]
    public void No_drop_at_sparsity_zero_and_growth_with_sparsity()
    {
        var model = Mlp();
        var loss = QualityLosses.OutputDrop(model, Inputs(), threads: 1);
        var result = SensitivityAnalyzer.Analyze(model, loss, new SensitivityOptions { Sparsities = [0, 0.3, 0.6, 0.9] });
        Assert.Equal(["W1", "W2"], result.Curves.Select(c => c.WeightName));
        Assert.Equal("first", result.Curves[0].Label);
        Assert.Equal([16 * 32L, 32 * 24L], result.Curves.Select(c => c.Parameters));
        foreach (var curve in result.Curves)
        {
            Assert.Equal(0, curve.Losses[0], 6);
            Assert.True(curve.Losses[^1] > curve.Losses[1], $"{curve.WeightName}: {string.Join(", ", curve.Losses)}");
            Assert.True(curve.Losses[^1] > 0.01, $"{curve.WeightName}: {string.Join(", ", curve.Losses)}");
            for (var i = 1; i < curve.Losses.Count; i++) Assert.True(curve.Losses[i] >= curve.Losses[i - 1] - 0.02, string.Join(", ", curve.Losses));
        }
        // The model itself is untouched.
        Assert.DoesNotContain(0f, model.Graph.Initializers["W1"].As<float>().ToArray());
    }

    [Fact]
    public void Around_an_operating_point_the_other_weights_are_pruned_and_losses_start_at_zero()
    {
        var model = Mlp();
        var seen = new List<(float W1Zeros, float W2Zeros)>();
        double Zeros(Model m, string w) => m.Graph.Initializers[w].As<float>().ToArray().Count(v => v == 0) / (double)m.Graph.Initializers[w].Length;
        var outputDrop = QualityLosses.OutputDrop(model, Inputs(), threads: 1);
        QualityLoss recording = m =>
        {
            // Exact counts per output row round the fractions slightly: compare at one decimal.
            seen.Add(((float)Math.Round(Zeros(m, "W1"), 1), (float)Math.Round(Zeros(m, "W2"), 1)));
            return outputDrop(m);
        };
        var result = SensitivityAnalyzer.Analyze(model, recording, new SensitivityOptions { Sparsities = [0.2, 0.8], Around = 0.5 });
        // W1's points hold W2 at 0.5, and W2's points hold W1 at 0.5.
        Assert.Equal([(0.2f, 0.5f), (0.8f, 0.5f), (0.5f, 0.2f), (0.5f, 0.8f)], seen);
        foreach (var curve in result.Curves)
        {
            Assert.Equal(0, curve.Losses.Min(), 12);
            Assert.True(curve.Losses[1] > curve.Losses[0], string.Join(", ", curve.Losses));
        }
    }

    [Fact]
    public void Each_point_prunes_only_its_own_weight()
    {
        var model = Mlp();
        var seen = new List<(int Zeros1, int Zeros2)>();
        QualityLoss spy = pruned =>
        {
            seen.Add((pruned.Graph.Initializers["W1"].As<float>().ToArray().Count(v => v == 0), pruned.Graph.Initializers["W2"].As<float>().ToArray().Count(v => v == 0)));
            return 0;
        };
        SensitivityAnalyzer.Analyze(model, spy, new SensitivityOptions { Sparsities = [0.5] });
        Assert.Equal([(256, 0), (0, 384)], seen);
    }

    [Fact]
    public void Wanda_statistics_are_gathered_once_and_used_for_every_point()
    {
        var model = Mlp();
        var settings = SensitivityAnalyzer.WithWanda(model, new PruneSettings(), Inputs());
        Assert.NotNull(settings.Criterion);
        var loss = QualityLosses.OutputDrop(model, Inputs(), threads: 1);
        var result = SensitivityAnalyzer.Analyze(model, loss, new SensitivityOptions { Sparsities = [0, 0.8], Settings = settings });
        Assert.All(result.Curves, c => Assert.Equal(0, c.Losses[0], 6));
        Assert.All(result.Curves, c => Assert.True(c.Losses[1] > 0));
        // The same masks as a full Wanda prune of that one weight.
        var alone = Pruner.Prune(model, settings with { Sparsity = 0.8, Targets = new TargetSelection { Include = ["^W2$"] } }).Pruned;
        var direct = CalibratedPruner.Wanda(model, new PruneSettings { Sparsity = 0.8, Targets = new TargetSelection { Include = ["^W2$"] } }, Inputs()).Pruned;
        Assert.Equal(direct.Graph.Initializers["W2"].As<float>().ToArray(), alone.Graph.Initializers["W2"].As<float>().ToArray());
    }

    [Fact]
    public void Bad_requests_fail_clearly()
    {
        var model = Mlp();
        QualityLoss none = _ => 0;
        Assert.Contains("No weight", Assert.Throws<PruningRequestException>(() =>
            SensitivityAnalyzer.Analyze(model, none, new SensitivityOptions { Settings = new PruneSettings { Targets = new TargetSelection { Include = ["nothing"] } } })).Message);
        var outOfRange = Assert.Throws<ArgumentOutOfRangeException>(() => SensitivityAnalyzer.Analyze(model, none, new SensitivityOptions { Sparsities = [1.5] }));
        Assert.Contains("both included), got 1.5", outOfRange.Message);
    }

    [Fact]
    public void Interpolation_starts_at_zero_and_extends_the_last_slope()
    {
        var curve = new SensitivityCurve("w", "w", "MatMul", [2, 2], 4, [0.5, 0.9], [0.1, 0.3]);
        Assert.Equal(0, curve.LossAt(0), 9);
        Assert.Equal(0.05, curve.LossAt(0.25), 9);
        Assert.Equal(0.2, curve.LossAt(0.7), 9);
        Assert.Equal(0.325, curve.LossAt(0.95), 9);
    }
}
