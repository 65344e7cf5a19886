using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Structured;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Tests.Structured;

public sealed class StructuredPrunerTests
{
    private static readonly Lazy<Model> MiniLm = new(() => OnnxImporter.Load(DefaultModel.ReadOnnx()));

    private static readonly string[] Sentences = ["The cat sat on the warm mat.", "Rain is expected tomorrow afternoon."];

    /// <summary>Few, short sentences: every head is scored with one run per head.</summary>
    private static StructuredPruneSettings Fast(double heads = 0, double neurons = 0, int layers = 0) => new()
    {
        HeadFraction = heads, NeuronFraction = neurons, LayersToRemove = layers,
        CalibrationSentences = Sentences, MaxSequenceLength = 12,
    };

    private static Dictionary<string, Tensor> Run(Model model, IReadOnlyDictionary<string, Tensor>? extra = null, params string[] outputs)
    {
        var probe = outputs.Length == 0 ? model : Calibrator.BuildProbe(model, outputs);
        using var session = new InferenceSession(probe, new SessionOptions { SparseKernel = "dense", UseKernelCache = false });
        using var batch = SentenceTokenizer.Default.EncodeBatch(Sentences, 12);
        var inputs = batch.ToInputs(model.Graph.RequiredInputs.Select(i => i.Name).Where(n => extra is null || !extra.ContainsKey(n))).ToDictionary();
        if (extra is not null) foreach (var (k, v) in extra) inputs[k] = v;
        return session.Run(inputs).ToDictionary();
    }

    private static float[] Hidden(IReadOnlyDictionary<string, Tensor> outputs, string name = DefaultModel.HiddenStateOutput) => ((Tensor<float>)outputs[name]).ToArray();

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0f;
        for (var i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= tolerance, $"largest difference {worst} > {tolerance}");
    }

    [Fact]
    public void Weight_roles_name_each_pruning_target_of_minilm_by_layer_and_role()
    {
        var roles = EncoderStructure.Find(MiniLm.Value.Graph).WeightRoles();
        var targets = Pruner.SelectTargets(MiniLm.Value.Graph, new PruneSettings()).Select(t => t.WeightName).ToHashSet();
        Assert.Equal(36, roles.Count);
        Assert.Subset(targets, roles.Keys.ToHashSet());
        Assert.Equal(36, roles.Values.Distinct().Count());
        Assert.Contains("layer 0 query", roles.Values);
        Assert.Contains("layer 5 ffn down", roles.Values);
    }

    [Fact]
    public void TryFind_returns_null_for_a_model_without_attention()
    {
        var graph = new ModelGraph();
        Assert.Null(EncoderStructure.TryFind(graph));
    }

    [Fact]
    public void Finds_minilm_layers_heads_and_feed_forward()
    {
        var structure = EncoderStructure.Find(MiniLm.Value.Graph);
        Assert.Equal(6, structure.Layers.Count);
        Assert.Equal(384, structure.HiddenSize);
        foreach (var layer in structure.Layers)
        {
            Assert.Equal(12, layer.Attention.Heads);
            Assert.Equal(32, layer.Attention.HeadSize);
            Assert.Equal(1536, layer.FeedForward.Intermediate);
            // Three split reshapes and the merge reshape each write the head count.
            Assert.Equal(4, layer.Attention.ShapeSlots.Count);
            if (layer.Index > 0) Assert.Equal(structure.Layers[layer.Index - 1].Output, layer.Input);
        }
        Assert.Equal(DefaultModel.HiddenStateOutput, structure.Layers[^1].Output);
    }

    [Fact]
    public void A_classifier_softmax_is_not_taken_for_attention()
    {
        var model = MiniLm.Value.Clone();
        model.Graph.Nodes.Add(new Node("Softmax", ["924"], ["probabilities"], "classifier_softmax"));
        model.Graph.Outputs.Add(new ValueInfo("probabilities", DataType.Float32, null));
        Assert.Equal(6, EncoderStructure.Find(model.Graph).Layers.Count);
    }

    [Fact]
    public void A_query_scaled_between_the_head_split_and_the_scores_is_recognised()
    {
        var model = MiniLm.Value.Clone();
        var graph = model.Graph;
        var query = EncoderStructure.Find(graph).Layers[0].Attention.Query.Output;
        Node ConsumerOf(string value, string opType) => graph.Nodes.Single(n => n.OpType == opType && n.Inputs.Contains(value));
        var split = ConsumerOf(ConsumerOf(query, "Reshape").Outputs[0], "Transpose");
        var scores = ConsumerOf(split.Outputs[0], "MatMul");
        graph.Initializers["query_scale"] = Tensor<float>.FromArray([1f], 1);
        graph.Nodes.Insert(graph.Nodes.IndexOf(scores), new Node("Mul", [split.Outputs[0], "query_scale"], ["query_scaled"], "query_scale_mul"));
        scores.Inputs[scores.Inputs.IndexOf(split.Outputs[0])] = "query_scaled";
        var layers = EncoderStructure.Find(graph).Layers;
        Assert.Equal(6, layers.Count);
        Assert.Equal(12, layers[0].Attention.Heads);
    }

    [Fact]
    public void Head_counts_written_as_minus_one_are_inferred_and_removal_still_works()
    {
        var model = MiniLm.Value.Clone();
        var layer0 = EncoderStructure.Find(model.Graph).Layers[0];
        model.Graph.Initializers["inferred_heads"] = Tensor<long>.FromArray([-1L], 1);
        foreach (var slot in layer0.Attention.ShapeSlots) slot.Node.Inputs[slot.InputIndex] = "inferred_heads";
        var found = EncoderStructure.Find(model.Graph).Layers[0].Attention;
        Assert.Equal(12, found.Heads);
        Assert.Empty(found.ShapeSlots);
        var plan = new StructuredPlan { Heads = new Dictionary<int, IReadOnlyList<int>> { [0] = [1, 7] } };
        AssertClose(Hidden(Run(StructuredRemoval.Apply(MiniLm.Value, plan))), Hidden(Run(StructuredRemoval.Apply(model, plan))), 1e-5f);
    }

    [Fact]
    public void Removing_a_head_equals_masking_its_context()
    {
        const int layer = 2, head = 5;
        var model = MiniLm.Value;
        var (probe, masks) = StructuredImportance.WithHeadMasks(model);
        var extra = new Dictionary<string, Tensor>();
        for (var l = 0; l < masks.Length; l++)
        {
            var values = Enumerable.Repeat(1f, 384).ToArray();
            if (l == layer) Array.Clear(values, head * 32, 32);
            extra[masks[l]] = Tensor<float>.FromArray(values, 384);
        }
        var masked = Hidden(Run(probe, extra));
        var removed = StructuredRemoval.Apply(model, new StructuredPlan { Heads = new Dictionary<int, IReadOnlyList<int>> { [layer] = [head] } });
        var shrunk = Hidden(Run(removed));
        AssertClose(masked, shrunk, 1e-4f);
        // And the head mattered: the dense output differs by far more than the tolerance.
        var dense = Hidden(Run(model));
        Assert.True(dense.Zip(shrunk).Max(p => Math.Abs(p.First - p.Second)) > 1e-3f);
    }

    [Fact]
    public void Removing_a_neuron_equals_zeroing_its_down_projection_row()
    {
        var model = MiniLm.Value;
        var structure = EncoderStructure.Find(model.Graph);
        var down = structure.Layers[1].FeedForward.Down.WeightName;
        int[] neurons = [3, 700, 1535];
        var zeroed = model.Clone();
        var w = ((Tensor<float>)zeroed.Graph.Initializers[down]).ToArray();
        foreach (var n in neurons) Array.Clear(w, n * 384, 384);
        zeroed.Graph.Initializers[down] = Tensor<float>.FromArray(w, 1536, 384);
        var removed = StructuredRemoval.Apply(model, new StructuredPlan { Neurons = new Dictionary<int, IReadOnlyList<int>> { [1] = neurons } });
        AssertClose(Hidden(Run(zeroed)), Hidden(Run(removed)), 1e-4f);
    }

    [Fact]
    public void Removing_the_last_layer_gives_the_previous_layers_output()
    {
        var model = MiniLm.Value;
        var structure = EncoderStructure.Find(model.Graph);
        var before = Hidden(Run(model, null, structure.Layers[4].Output), structure.Layers[4].Output);
        var removed = StructuredRemoval.Apply(model, new StructuredPlan { Layers = [5] });
        Assert.Equal(5, EncoderStructure.Find(removed.Graph).Layers.Count);
        var outputs = Run(removed);
        Assert.Equal(before, Hidden(outputs));
        Assert.Contains("924", outputs.Keys); // the pooled output still runs, from the new last layer
        Assert.DoesNotContain(structure.Layers[5].FeedForward.Up.WeightName, removed.Graph.Initializers.Keys);
    }

    [Fact]
    public void Removing_middle_layers_keeps_a_working_chain()
    {
        var model = MiniLm.Value;
        var removed = StructuredRemoval.Apply(model, new StructuredPlan { Layers = [1, 2] });
        var structure = EncoderStructure.Find(removed.Graph);
        Assert.Equal(4, structure.Layers.Count);
        var perLayer = EncoderStructure.Find(model.Graph).Layers[0];
        var layerParameters = new[] { perLayer.Attention.Query, perLayer.Attention.Key, perLayer.Attention.Value, perLayer.Attention.Output, perLayer.FeedForward.Up, perLayer.FeedForward.Down }
            .Sum(p => model.Graph.Initializers[p.WeightName].Length + (p.BiasName is { } b ? model.Graph.Initializers[b].Length : 0)) + 4 * 384; // + two LayerNorms
        var shapeConstants = 2 * (3 * 2 + 1); // each layer's Concat constants: heads and head size for Q, K, V, and the merged width
        Assert.Equal(model.Graph.ParameterCount - 2 * layerParameters - shapeConstants, removed.Graph.ParameterCount);
        Assert.All(Hidden(Run(removed)), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Parameter_count_shrinks_by_exactly_the_removed_rows_and_columns()
    {
        var (pruned, report) = StructuredPruner.Prune(MiniLm.Value, Fast(heads: 0.25, neurons: 0.25) with { Criterion = StructuredCriterion.Random });
        Assert.Equal(18, report.HeadsRemoved);
        Assert.Equal(6 * 384, report.NeuronsRemoved);
        const long perHeadChannel = 3 * 384 + 3 + 384; // Q, K, V columns and biases, the output projection's row
        const long perNeuron = 384 + 1 + 384; // up column and bias, down row
        var expected = MiniLm.Value.Graph.ParameterCount - 6 * (3 * 32 * perHeadChannel + 384 * perNeuron);
        Assert.Equal(expected, pruned.Graph.ParameterCount);
        Assert.Equal(expected, report.ParametersAfter);
        var structure = EncoderStructure.Find(pruned.Graph);
        Assert.All(structure.Layers, l => Assert.Equal((9, 1152), (l.Attention.Heads, l.FeedForward.Intermediate)));
        Assert.All(Hidden(Run(pruned)), v => Assert.True(float.IsFinite(v)));
        var record = StructuredPruningRecord.ReadFrom(pruned)!;
        Assert.Equal(1152, record.NeuronsKept["3"]);
        Assert.Equal(report.Layers[3].RemovedHeads, record.RemovedHeads["3"]);
    }

    [Fact]
    public void Nothing_to_remove_is_the_identity()
    {
        var (pruned, report) = StructuredPruner.Prune(MiniLm.Value, Fast());
        Assert.True(report.Plan.IsEmpty);
        Assert.Equal(MiniLm.Value.Graph.ParameterCount, pruned.Graph.ParameterCount);
        Assert.Equal(Hidden(Run(MiniLm.Value)), Hidden(Run(pruned)));
    }

    [Fact]
    public void Importance_ranks_heads_neurons_and_layers_deterministically()
    {
        var settings = Fast(heads: 0.25, neurons: 0.1, layers: 1);
        var (first, a) = StructuredPruner.Prune(MiniLm.Value, settings);
        var (_, b) = StructuredPruner.Prune(MiniLm.Value, settings);
        Assert.Equal(a.Plan.Layers, b.Plan.Layers);
        Assert.Equal(a.Plan.Heads.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value), b.Plan.Heads.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value));
        Assert.Equal(a.Plan.Neurons.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value), b.Plan.Neurons.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value));
        Assert.Equal(12, a.HeadImportance![0].Length);
        Assert.All(a.HeadImportance.SelectMany(h => h), s => Assert.True(s >= 0 && float.IsFinite(s)));
        // The removed heads are the lowest-scored in their layer.
        foreach (var (layer, heads) in a.Plan.Heads)
        {
            var kept = Enumerable.Range(0, 12).Except(heads).Min(h => a.HeadImportance[layer][h]);
            Assert.All(heads, h => Assert.True(a.HeadImportance[layer][h] <= kept));
        }
        var removedLayer = Assert.Single(a.Plan.Layers);
        Assert.Equal(5 * 3, a.HeadsRemoved); // the removed layer's heads go with it, not counted here
        Assert.Equal(a.LayerImportance!.Min(), a.LayerImportance![removedLayer]);
        Assert.Equal(5, EncoderStructure.Find(first.Graph).Layers.Count);
        Assert.All(Hidden(Run(first)), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Head_scores_from_the_layer_input_equal_those_of_whole_runs()
    {
        var batches = new[] { SentenceTokenizer.Default.EncodeBatch(Sentences, 12) };
        try
        {
            var shortcut = StructuredImportance.Heads(MiniLm.Value, batches, 0, startAtLayer: true);
            var whole = StructuredImportance.Heads(MiniLm.Value, batches, 0, startAtLayer: false);
            for (var l = 0; l < 6; l++)
                for (var h = 0; h < 12; h++) Assert.Equal(whole[l][h], shortcut[l][h], 1e-5f);
            Assert.Contains(whole.SelectMany(s => s), s => s > 1e-4f);
        }
        finally
        {
            batches[0].Dispose();
        }
    }

    [Fact]
    public void Random_criterion_depends_on_the_seed_only()
    {
        var settings = Fast(heads: 0.5) with { Criterion = StructuredCriterion.Random, Seed = 3 };
        var a = StructuredPruner.Prune(MiniLm.Value, settings).Report.Plan.Heads[0];
        var b = StructuredPruner.Prune(MiniLm.Value, settings).Report.Plan.Heads[0];
        var c = StructuredPruner.Prune(MiniLm.Value, settings with { Seed = 4 }).Report.Plan.Heads[0];
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(-0.1, 0, 0, "HeadFraction")]
    [InlineData(1.0, 0, 0, "HeadFraction")]
    [InlineData(double.NaN, 0, 0, "HeadFraction")]
    [InlineData(0, 1.5, 0, "NeuronFraction")]
    [InlineData(0, 0, -1, "LayersToRemove")]
    [InlineData(0, 0, 6, "at least one must stay")]
    public void Invalid_requests_are_refused_with_the_setting_named(double heads, double neurons, int layers, string expected)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => StructuredPruner.Prune(MiniLm.Value, Fast(heads, neurons, layers)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Invalid_plans_are_refused()
    {
        var model = MiniLm.Value;
        Assert.Contains("keep at least one", Assert.Throws<PruningRequestException>(() =>
            StructuredRemoval.Apply(model, new StructuredPlan { Heads = new Dictionary<int, IReadOnlyList<int>> { [0] = Enumerable.Range(0, 12).ToArray() } })).Message);
        Assert.Contains("numbered 0 to 11", Assert.Throws<PruningRequestException>(() =>
            StructuredRemoval.Apply(model, new StructuredPlan { Heads = new Dictionary<int, IReadOnlyList<int>> { [0] = [12] } })).Message);
        Assert.Contains("layers 0 to 5", Assert.Throws<PruningRequestException>(() =>
            StructuredRemoval.Apply(model, new StructuredPlan { Layers = [6] })).Message);
    }

    [Fact]
    public void A_model_without_attention_is_refused_with_what_is_missing()
    {
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, null));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Initializers["W"] = Tensor<float>.FromArray(new float[4], 2, 2);
        graph.Nodes.Add(new Node("MatMul", ["x", "W"], ["y"]));
        var e = Assert.Throws<PruningRequestException>(() => StructuredPruner.Prune(new Model(graph), new StructuredPruneSettings { HeadFraction = 0.25 }));
        Assert.Contains("no Softmax", e.Message);
    }

    [Fact]
    public void A_broken_attention_names_the_missing_part()
    {
        var model = MiniLm.Value.Clone();
        // Cut layer 0's output projection: the merged heads go nowhere.
        var structure = EncoderStructure.Find(MiniLm.Value.Graph);
        var name = structure.Layers[0].Attention.Output.MatMul.Name;
        var node = model.Graph.Nodes.First(n => n.Name == name);
        node.OpType = "Gemm";
        var e = Assert.Throws<PruningRequestException>(() => EncoderStructure.Find(model.Graph));
        Assert.Contains("layer 0", e.Message);
        Assert.Contains("output projection", e.Message);
    }
}
