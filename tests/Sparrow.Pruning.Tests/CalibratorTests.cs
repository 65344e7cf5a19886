using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning.Calibration;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Tests;

public sealed class CalibratorTests
{
    private const int In = 4, Hidden = 6, Narrow = 5, Out = 3;

    /// <summary>
    /// x [.., 4] → MatMul W0 + b0 = h0 (fused into a Linear) → MatMul W1 + b1, Relu = r1 (a Linear with the Relu
    /// folded in) → MatMul W2, Relu = r2 → MatMul W3 + b3 (the last product: not a target). Targets W0 (X is the
    /// graph input), W1 (X is a fused Linear's output), W2 (X is a folded Linear's output).
    /// </summary>
    private static (Model Model, Dictionary<string, float[]> Weights) BuildMlp(int seed, int rank)
    {
        var random = new Random(seed);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var weights = new Dictionary<string, float[]>
        {
            ["W0"] = Random(In * Hidden), ["b0"] = Random(Hidden),
            ["W1"] = Random(Hidden * Hidden), ["b1"] = Random(Hidden),
            ["W2"] = Random(Hidden * Narrow),
            ["W3"] = Random(Narrow * Out), ["b3"] = Random(Out),
        };
        var graph = new ModelGraph { Name = "mlp" };
        var dims = Enumerable.Repeat(new Dimension(null, "n"), rank - 1).Append(new Dimension(In, null)).ToArray();
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, dims));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Initializers["W0"] = Tensor<float>.FromArray(weights["W0"], In, Hidden);
        graph.Initializers["b0"] = Tensor<float>.FromArray(weights["b0"], Hidden);
        graph.Initializers["W1"] = Tensor<float>.FromArray(weights["W1"], Hidden, Hidden);
        graph.Initializers["b1"] = Tensor<float>.FromArray(weights["b1"], Hidden);
        graph.Initializers["W2"] = Tensor<float>.FromArray(weights["W2"], Hidden, Narrow);
        graph.Initializers["W3"] = Tensor<float>.FromArray(weights["W3"], Narrow, Out);
        graph.Initializers["b3"] = Tensor<float>.FromArray(weights["b3"], Out);
        graph.Nodes.Add(new Node("MatMul", ["x", "W0"], ["p0"], "mm0"));
        graph.Nodes.Add(new Node("Add", ["p0", "b0"], ["h0"], "add0"));
        graph.Nodes.Add(new Node("MatMul", ["h0", "W1"], ["p1"], "mm1"));
        graph.Nodes.Add(new Node("Add", ["b1", "p1"], ["s1"], "add1"));
        graph.Nodes.Add(new Node("Relu", ["s1"], ["r1"], "relu1"));
        graph.Nodes.Add(new Node("MatMul", ["r1", "W2"], ["p2"], "mm2"));
        graph.Nodes.Add(new Node("Relu", ["p2"], ["r2"], "relu2"));
        graph.Nodes.Add(new Node("MatMul", ["r2", "W3"], ["p3"], "mm3"));
        graph.Nodes.Add(new Node("Add", ["p3", "b3"], ["y"], "add3"));
        return (new Model(graph), weights);
    }

    private static float[] Dense(float[] x, int rows, float[] w, int k, int n, float[]? bias, bool relu)
    {
        var y = new float[rows * n];
        for (var r = 0; r < rows; r++)
            for (var j = 0; j < n; j++)
            {
                double sum = bias?[j] ?? 0;
                for (var i = 0; i < k; i++) sum += (double)x[r * k + i] * w[i * n + j];
                y[r * n + j] = relu ? (float)Math.Max(sum, 0) : (float)sum;
            }
        return y;
    }

    private static LayerInputStatistics Direct(float[] x, int features, bool withHessian)
    {
        var statistics = new LayerInputStatistics(features, withHessian);
        statistics.Add(x, x.Length / features);
        return statistics;
    }

    private static void AssertClose(LayerInputStatistics expected, LayerInputStatistics actual, double relative = 1e-5)
    {
        Assert.Equal(expected.Features, actual.Features);
        Assert.Equal(expected.Rows, actual.Rows);
        for (var k = 0; k < expected.Features; k++)
            Assert.True(Math.Abs(expected.SquareSums[k] - actual.SquareSums[k]) <= relative * (1 + Math.Abs(expected.SquareSums[k])),
                $"feature {k}: expected {expected.SquareSums[k]}, got {actual.SquareSums[k]}");
        Assert.Equal(expected.Hessian is null, actual.Hessian is null);
        if (expected.Hessian is null) return;
        var scale = 1 + expected.Hessian.Max(Math.Abs);
        for (var i = 0; i < expected.Hessian.Length; i++)
            Assert.True(Math.Abs(expected.Hessian[i] - actual.Hessian![i]) <= relative * scale, $"Hessian[{i}]: expected {expected.Hessian[i]}, got {actual.Hessian[i]}");
    }

    private static float[] RandomInput(int seed, int length)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(3, false)]
    public void Mlp_statistics_equal_those_computed_from_the_inputs(int rank, bool optimize)
    {
        var (model, w) = BuildMlp(seed: 11, rank);
        var targets = PruningTargets.Find(model.Graph);
        Assert.Equal(["W0", "W1", "W2"], targets.Select(t => t.WeightName));
        var shape = rank == 2 ? new[] { 7, In } : new[] { 2, 4, In };
        var rows = shape[..^1].Aggregate(1, (a, b) => a * b);
        var x = RandomInput(21, rows * In);

        var statistics = Calibrator.Run(model, targets, [new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(x, shape) }],
            new CalibrationOptions { WithHessian = true, OptimizeGraph = optimize });

        var h0 = Dense(x, rows, w["W0"], In, Hidden, w["b0"], relu: false);
        var r1 = Dense(h0, rows, w["W1"], Hidden, Hidden, w["b1"], relu: true);
        AssertClose(Direct(x, In, true), statistics["W0"]);
        AssertClose(Direct(h0, Hidden, true), statistics["W1"]);
        AssertClose(Direct(r1, Hidden, true), statistics["W2"]);
        Assert.False(statistics.ContainsKey("W3"));
        Assert.Equal(rows, statistics["W0"].Rows);
    }

    [Fact]
    public void The_probe_keeps_the_fused_linears()
    {
        var (model, _) = BuildMlp(seed: 3, rank: 2);
        var values = Calibrator.CapturedValues(PruningTargets.Find(model.Graph)).ToArray();
        Assert.Equal(["x", "h0", "r1"], values);
        var probe = Calibrator.BuildProbe(model, values);
        Assert.Equal(["y", "h0", "r1"], probe.Graph.Outputs.Select(o => o.Name)); // the graph input x is read from the batch
        using var session = new InferenceSession(probe, new SessionOptions { SparseKernel = "dense", UseKernelCache = false });
        var linears = session.ExecutionOrder.Where(n => n.OpType == "Linear").ToArray();
        // mm0+add0 (output h0 stays observable), mm1+add1 with relu1 folded (output r1), mm3+add3.
        Assert.Equal(3, linears.Length);
        Assert.Contains(linears, n => n.Inputs[0] == "x" && n.Outputs[0] == "h0");
        Assert.Contains(linears, n => n.Inputs[0] == "h0" && n.Outputs[0] == "r1" && n.GetString("activation", "") == "Relu");
    }

    [Fact]
    public void The_model_given_is_left_unchanged()
    {
        var (model, _) = BuildMlp(seed: 2, rank: 2);
        var outputs = model.Graph.Outputs.Select(o => o.Name).ToArray();
        var nodes = model.Graph.Nodes.Count;
        Calibrator.Run(model, PruningTargets.Find(model.Graph), [new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(RandomInput(1, 3 * In), 3, In) }]);
        Assert.Equal(outputs, model.Graph.Outputs.Select(o => o.Name));
        Assert.Equal(nodes, model.Graph.Nodes.Count);
    }

    [Fact]
    public void Two_batches_give_the_statistics_of_their_concatenation()
    {
        var (model, _) = BuildMlp(seed: 5, rank: 2);
        var targets = PruningTargets.Find(model.Graph);
        var first = RandomInput(31, 5 * In);
        var second = RandomInput(32, 8 * In);
        var streamed = Calibrator.Run(model, targets,
            [new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(first, 5, In) },
             new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(second, 8, In) }], withHessian: true);
        var whole = Calibrator.Run(model, targets,
            [new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray([.. first, .. second], 13, In) }], withHessian: true);
        // Float activations may round differently at another batch size (GEMM blocking); sums are otherwise equal.
        foreach (var target in targets) AssertClose(whole[target.WeightName], streamed[target.WeightName], 1e-6);
        Assert.Equal(13, streamed["W1"].Rows);
    }

    [Fact]
    public void Batches_are_read_one_at_a_time()
    {
        var (model, _) = BuildMlp(seed: 5, rank: 2);
        var read = 0;
        IEnumerable<IReadOnlyDictionary<string, Tensor>> Batches()
        {
            for (var b = 0; b < 4; b++)
            {
                read++;
                yield return new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(RandomInput(b, 2 * In), 2, In) };
            }
        }
        var statistics = Calibrator.Run(model, PruningTargets.Find(model.Graph), Batches());
        Assert.Equal(4, read);
        Assert.Equal(8, statistics["W2"].Rows);
        Assert.Null(statistics["W2"].Hessian);
    }

    [Fact]
    public void Gemm_with_transposed_operands_reads_the_columns_of_a_as_rows()
    {
        const int k = 4, m = 6, n = 3;
        var random = new Random(8);
        float[] Random(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("a", DataType.Float32, [new Dimension(k, null), new Dimension(m, null)]));
        graph.Outputs.Add(new ValueInfo("z", DataType.Float32, null));
        graph.Initializers["B"] = Tensor<float>.FromArray(Random(n * k), n, k);
        graph.Initializers["C"] = Tensor<float>.FromArray(Random(n), n);
        graph.Initializers["B2"] = Tensor<float>.FromArray(Random(n * 2), n, 2);
        var gemm = new Node("Gemm", ["a", "B", "C"], ["y"], "gemm");
        gemm.SetAttribute(NodeAttribute.Int("transA", 1));
        gemm.SetAttribute(NodeAttribute.Int("transB", 1));
        graph.Nodes.Add(gemm);
        graph.Nodes.Add(new Node("Gemm", ["y", "B2"], ["z"], "head"));
        var model = new Model(graph);
        var targets = PruningTargets.Find(graph);
        Assert.Equal("B", Assert.Single(targets).WeightName);

        var a = Random(k * m);
        var statistics = Calibrator.Run(model, targets, [new Dictionary<string, Tensor> { ["a"] = Tensor<float>.FromArray(a, k, m) }], withHessian: true);
        var rows = new float[m * k];
        for (var i = 0; i < k; i++)
            for (var j = 0; j < m; j++) rows[j * k + i] = a[i * m + j];
        AssertClose(Direct(rows, k, true), statistics["B"], 1e-12);
    }

    [Fact]
    public void MiniLm_statistics_match_the_unoptimised_model_and_skip_padding()
    {
        var model = OnnxImporter.Load(DefaultModel.ReadOnnx());
        var targets = PruningTargets.Find(model.Graph);
        string[] sentences = ["The bakery sells out of croissants before eight in the morning.", "A fox crossed the road."];
        var statistics = Calibrator.Run(model, targets, CalibrationSentences.Batches(sentences, batchSize: 2), withHessian: false);
        Assert.Equal(targets.Count, statistics.Count);

        // The reference: the model as written, unoptimised, with the first layer's inputs read out directly.
        var first = targets.Take(6).ToArray(); // Q, K, V, attention output, FFN up, FFN down of layer 0
        var probe = model.Clone();
        foreach (var x in first.Select(t => t.Node.Inputs[0]).Distinct())
            probe.Graph.Outputs.Add(new ValueInfo(x, DataType.Float32, null));
        using var session = new InferenceSession(probe, new SessionOptions { OptimizeGraph = false, SparseKernel = "dense", UseKernelCache = false });
        var lengths = sentences.Select(s => Sparrow.Data.Text.SentenceTokenizer.Default.Encode(s).Length).ToArray();
        foreach (var batch in CalibrationSentences.Batches(sentences, batchSize: 2))
        {
            var sequence = batch["input_ids"].Shape[1];
            Assert.True(lengths[1] < sequence, "the short sentence is padded");
            var outputs = session.Run(batch);
            foreach (var target in first)
            {
                var x = (Tensor<float>)outputs[target.Node.Inputs[0]];
                var features = target.Shape[0];
                Assert.Equal([2, sequence, features], x.Shape.ToArray());
                var expected = new LayerInputStatistics(features, withHessian: false);
                for (var b = 0; b < 2; b++)
                    expected.Add(x.Span.Slice(b * sequence * features, lengths[b] * features), lengths[b]);
                AssertClose(expected, statistics[target.WeightName], 1e-4);
            }
            foreach (var output in outputs.Values) output.Dispose();
        }
        Assert.All(statistics.Values, s => Assert.Equal(lengths.Sum(), s.Rows));
        // Q, K and V read one value but own their statistics.
        Assert.NotSame(statistics[first[0].WeightName], statistics[first[1].WeightName]);
        Assert.Equal(statistics[first[0].WeightName].SquareSums, statistics[first[1].WeightName].SquareSums);
    }

    [Fact]
    public void The_sample_holds_real_sentences_and_batches_carry_the_three_inputs()
    {
        Assert.Equal(64, CalibrationSentences.Sample.Count);
        Assert.All(CalibrationSentences.Sample, s => Assert.True(s.Split(' ').Length >= 4 && char.IsUpper(s[0]) && s.EndsWith('.'), s));
        var batches = CalibrationSentences.Batches(CalibrationSentences.Sample, batchSize: 30).Select(b => (b.Keys.Order().ToArray(), b["input_ids"].Shape[0])).ToArray();
        Assert.Equal([30, 30, 4], batches.Select(b => b.Item2));
        Assert.All(batches, b => Assert.Equal(["attention_mask", "input_ids", "token_type_ids"], b.Item1));
    }
}
