using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Conditional;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Tests.Conditional;

public sealed class MoefierTests
{
    private static readonly Lazy<Model> MiniLm = new(() => OnnxImporter.Load(DefaultModel.ReadOnnx()));

    private static readonly Lazy<MoefyResult> Moefied = new(() =>
        Moefier.Moefy(MiniLm.Value, new MoefySettings { Experts = 16, K = 0, MaxRelativeError = 0.2, MaxTokens = 384, Iterations = 8, Threads = 1 },
            CalibrationSentences.Batches(CalibrationSentences.Sample, batchSize: 16)));

    [Fact]
    public void BalancedKMeansMakesEqualClustersThatPartitionTheVectors()
    {
        var random = new Random(5);
        const int count = 96, dimension = 7, clusters = 8;
        var vectors = Enumerable.Range(0, count * dimension).Select(_ => (float)random.NextDouble()).ToArray();
        var result = Moefier.BalancedKMeans(vectors, count, dimension, clusters, 10, seed: 1);
        Assert.Equal(clusters, result.Length);
        Assert.All(result, c => Assert.Equal(count / clusters, c.Length));
        Assert.Equal(Enumerable.Range(0, count), result.SelectMany(c => c).Order());
    }

    [Fact]
    public void BalancedKMeansRecoversSeparatedGroups()
    {
        // Four tight groups of 5 around far-apart centres, shuffled: each cluster must be one group.
        var random = new Random(9);
        const int groups = 4, per = 5, dimension = 3;
        var order = Enumerable.Range(0, groups * per).OrderBy(_ => random.Next()).ToArray();
        var vectors = new float[groups * per * dimension];
        for (var i = 0; i < order.Length; i++)
        for (var j = 0; j < dimension; j++)
            vectors[i * dimension + j] = (order[i] / per) * 100 * (j + 1) + (float)random.NextDouble();
        var result = Moefier.BalancedKMeans(vectors, groups * per, dimension, groups, 20, seed: 3);
        foreach (var cluster in result) Assert.Single(cluster.Select(i => order[i] / per).Distinct());
    }

    [Fact]
    public void CholeskySolveSolvesASymmetricSystem()
    {
        double[] a = [4, 2, 0.4, 2, 5, 1, 0.4, 1, 3];
        double[] x = [1, -2, 0.5, 3, 2, -1];
        var b = new double[6];
        for (var i = 0; i < 3; i++)
        for (var c = 0; c < 2; c++)
        for (var p = 0; p < 3; p++)
            b[i * 2 + c] += a[i * 3 + p] * x[p * 2 + c];
        var solved = Moefier.CholeskySolve((double[])a.Clone(), b, 3, 2);
        for (var i = 0; i < 6; i++) Assert.Equal(x[i], solved[i], 9);
    }

    [Fact]
    public void ReplacesEveryFeedForwardBlockOfMiniLmWithAnMoENode()
    {
        var result = Moefied.Value;
        var graph = result.Model.Graph;
        var moes = graph.Nodes.Where(n => n.OpType == "MoE" && n.Domain == "ai.sparrow").ToList();
        Assert.Equal(6, moes.Count);
        Assert.Equal(6, result.Layers.Count);
        // Q, K, V and attention output remain: 4 weight MatMuls per layer instead of 6.
        Assert.Equal(24, graph.Nodes.Count(n => n.OpType == "MatMul" && graph.Initializers.ContainsKey(n.Inputs[1])));
        Assert.Equal(0, graph.Nodes.Count(n => n.OpType == "Erf"));
        foreach (var moe in moes)
        {
            Assert.Equal(0, moe.GetInt("gate_weighted", 1));
            Assert.Equal("gelu", moe.GetString("activation", ""));
            Assert.Equal([16, 384], graph.Initializers[moe.Inputs[1]].Shape.ToArray());
            Assert.Equal([16, 96, 384], graph.Initializers[moe.Inputs[3]].Shape.ToArray());
            Assert.Equal([16, 384, 96], graph.Initializers[moe.Inputs[5]].Shape.ToArray());
        }
        Assert.Equal(1, result.Model.OpsetImports["ai.sparrow"]);
    }

    [Fact]
    public void ErrorFallsWithKReachesZeroAtKEqualsEAndKMeetsTheTarget()
    {
        foreach (var layer in Moefied.Value.Layers)
        {
            var errors = layer.RelativeErrorByK;
            Assert.Equal(16, errors.Count);
            Assert.True(errors[^1] < 1e-8, $"layer {layer.Layer}: k = E leaves error {errors[^1]}");
            Assert.True(errors[0] > errors[7], $"layer {layer.Layer}: k = 1 error {errors[0]} not above k = 8's {errors[7]}");
            // Ranking experts by their true output norms (what the router predicts) also reaches 0 at k = E.
            Assert.True(layer.OracleRelativeErrorByK[^1] < 1e-8);
            // K = 0: the smallest k within the target.
            Assert.True(errors[layer.K - 1] <= 0.2);
            if (layer.K > 1) Assert.True(errors[layer.K - 2] > 0.2);
            // The router is better than picking experts blindly: at k = 4 it beats the error of dropping 12 of 16 at random (about 0.75).
            Assert.True(errors[3] < 0.6, $"layer {layer.Layer}: k = 4 error {errors[3]}");
        }
    }

    /// <summary>With k = E every expert runs and is summed with weight 1: the MoEfied model is the dense one (the runtime's MoE operator).</summary>
    [Fact]
    public void WithKEqualToTheExpertCountTheModelEqualsTheDenseOneAndSmallerKDiffers()
    {
        var all = Moefied.Value.Model.Clone();
        foreach (var node in all.Graph.Nodes.Where(n => n.OpType == "MoE"))
        {
            node.Attributes.RemoveAll(a => a.Name == "k");
            node.Attributes.Add(NodeAttribute.Int("k", 16));
        }
        float[] dense = [], full = [], routed = [];
        // A batch's tensors live until the enumeration moves on: run all three models inside the loop.
        foreach (var batch in CalibrationSentences.Batches(["A quiet street after the rain.", "The committee approved the budget for next year."], batchSize: 2))
        {
            dense = Hidden(MiniLm.Value, batch);
            full = Hidden(all, batch);
            routed = Hidden(Moefied.Value.Model, batch);
        }
        static float[] Hidden(Model m, IReadOnlyDictionary<string, Tensor> batch)
        {
            using var session = new Sparrow.Runtime.InferenceSession(m, new Sparrow.Runtime.SessionOptions { IntraOpThreads = 1, UseKernelCache = false });
            var outputs = session.Run(batch);
            var values = ((Tensor<float>)outputs[DefaultModel.HiddenStateOutput]).Span.ToArray();
            foreach (var t in outputs.Values) t.Dispose();
            return values;
        }
        Assert.Equal(dense.Length, full.Length);
        for (var i = 0; i < dense.Length; i++) Assert.True(Math.Abs(dense[i] - full[i]) <= 1e-3f * (1 + Math.Abs(dense[i])), $"[{i}] {full[i]} vs dense {dense[i]}");
        Assert.Contains(Enumerable.Range(0, dense.Length), i => Math.Abs(dense[i] - routed[i]) > 1e-2);
    }

    [Fact]
    public void RefusesAnIntermediateSizeThatDoesNotSplitEvenly()
    {
        Assert.Throws<PruningRequestException>(() => Moefier.Moefy(MiniLm.Value, new MoefySettings { Experts = 7, MaxTokens = 16, Threads = 1 },
            CalibrationSentences.Batches(CalibrationSentences.Sample.Take(2), batchSize: 2)));
    }
}
