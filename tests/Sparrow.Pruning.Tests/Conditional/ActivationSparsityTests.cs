using Sparrow.Graph;
using Sparrow.Pruning.Conditional;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Tests.Conditional;

public sealed class ActivationSparsityTests
{
    private const int In = 8, Hidden = 12, Out = 3;

    /// <summary>x → MatMul W0 + b0 → Relu → MatMul W1 → Relu → MatMul W2 (the classifier: not a target).</summary>
    private static Model BuildMlp()
    {
        var random = new Random(21);
        Tensor<float> Random(params int[] shape) =>
            Tensor<float>.FromArray(Enumerable.Range(0, TensorShape.Product(shape)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), shape);
        var graph = new ModelGraph { Name = "mlp" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, [new Dimension(null, "n"), new Dimension(In, null)]));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Initializers["W0"] = Random(In, Hidden);
        graph.Initializers["b0"] = Random(Hidden);
        graph.Initializers["W1"] = Random(Hidden, Hidden);
        graph.Initializers["W2"] = Random(Hidden, Out);
        graph.Nodes.Add(new Node("MatMul", ["x", "W0"], ["p0"], "mm0"));
        graph.Nodes.Add(new Node("Add", ["p0", "b0"], ["s0"], "add0"));
        graph.Nodes.Add(new Node("Relu", ["s0"], ["h0"], "relu0"));
        graph.Nodes.Add(new Node("MatMul", ["h0", "W1"], ["p1"], "mm1"));
        graph.Nodes.Add(new Node("Tanh", ["p1"], ["h1"], "tanh1"));
        graph.Nodes.Add(new Node("MatMul", ["h1", "W2"], ["y"], "mm2"));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        return model;
    }

    private static List<IReadOnlyDictionary<string, Tensor>> Batches(int count, int rows, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (IReadOnlyDictionary<string, Tensor>)new Dictionary<string, Tensor>
        {
            ["x"] = Tensor<float>.FromArray(Enumerable.Range(0, rows * In).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray(), rows, In),
        }).ToList();
    }

    [Theory]
    [InlineData(0.4)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void ThresholdsZeroTheTargetFractionOfEachLayersInputs(double sparsity)
    {
        var model = BuildMlp();
        var batches = Batches(4, 50, 1);
        var thresholds = ActivationSparsity.Calibrate(model, sparsity, batches);

        Assert.Equal(["W0", "W1"], thresholds.Keys.Order());
        // W0 reads the graph input: the fraction of calibration values at or under its threshold is the target.
        var x = batches.SelectMany(b => ((Tensor<float>)b["x"]).Span.ToArray()).ToArray();
        var zeroed = ActivationSparsity.ZeroedFraction(x, thresholds["W0"]);
        Assert.InRange(zeroed, sparsity, sparsity + 1.0 / x.Length);

        // W1 reads tanh(h0·W1)'s input h0 = relu(..): recompute it with the runtime and check the same.
        var probe = model.Clone();
        probe.Graph.Outputs.Add(new ValueInfo("h0", DataType.Float32, null));
        using var session = new InferenceSession(probe, new SessionOptions { IntraOpThreads = 1, UseKernelCache = false });
        var h0 = batches.SelectMany(b =>
        {
            var outputs = session.Run(b);
            var values = ((Tensor<float>)outputs["h0"]).Span.ToArray();
            foreach (var t in outputs.Values) t.Dispose();
            return values;
        }).ToArray();
        // relu makes many exact zeros: the threshold reaches at least the target and is the smallest that does.
        Assert.InRange(ActivationSparsity.ZeroedFraction(h0, thresholds["W1"]), sparsity, 1.0);
        if (thresholds["W1"] > 0)
            Assert.True(ActivationSparsity.ZeroedFraction(h0, thresholds["W1"] * 0.999f) < sparsity);
    }

    [Fact]
    public void ZeroSparsityGivesZeroThresholdsAndHigherSparsityHigherThresholds()
    {
        var model = BuildMlp();
        var zero = ActivationSparsity.Calibrate(model, 0, Batches(2, 30, 2));
        Assert.All(zero.Values, t => Assert.Equal(0f, t));
        var low = ActivationSparsity.Calibrate(model, 0.4, Batches(2, 30, 2));
        var high = ActivationSparsity.Calibrate(model, 0.6, Batches(2, 30, 2));
        Assert.True(high["W0"] > low["W0"]);
        Assert.True(high["W1"] >= low["W1"]);
    }

    [Fact]
    public void ASmallReservoirStillEstimatesTheQuantile()
    {
        var model = BuildMlp();
        var batches = Batches(10, 100, 3);
        var thresholds = ActivationSparsity.Calibrate(model, 0.5, batches, new ActivationSparsityOptions { SamplesPerLayer = 2000, Seed = 4 });
        var x = batches.SelectMany(b => ((Tensor<float>)b["x"]).Span.ToArray()).ToArray();
        Assert.InRange(ActivationSparsity.ZeroedFraction(x, thresholds["W0"]), 0.45, 0.55);
    }

    [Fact]
    public void RejectsASparsityOutsideTheRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ActivationSparsity.Calibrate(BuildMlp(), 1.0, Batches(1, 2, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ActivationSparsity.Calibrate(BuildMlp(), -0.1, Batches(1, 2, 0)));
    }
}
