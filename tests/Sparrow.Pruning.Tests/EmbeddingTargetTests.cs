using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Pruning.Tests;

/// <summary><see cref="TargetSelection.Embeddings"/>: Gather tables become targets only when asked for.</summary>
public sealed class EmbeddingTargetTests
{
    /// <summary>ids → Gather E [20, 8] (+ Gather P [6, 8]) → MatMul W1 [8, 16] → MatMul W2 [16, 4] (the classifier).</summary>
    private static Model Embedder()
    {
        var graph = new ModelGraph();
        var random = new Random(4);
        float[] W(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        graph.Initializers["E"] = Tensor<float>.FromArray(W(20 * 8), 20, 8);
        graph.Initializers["P"] = Tensor<float>.FromArray(W(6 * 8), 6, 8);
        graph.Initializers["W1"] = Tensor<float>.FromArray(W(8 * 16), 8, 16);
        graph.Initializers["W2"] = Tensor<float>.FromArray(W(16 * 4), 16, 4);
        graph.Inputs.Add(new ValueInfo("ids", DataType.Int64, null));
        graph.Inputs.Add(new ValueInfo("positions", DataType.Int64, null));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Nodes.Add(new Node("Gather", new[] { "E", "ids" }, new[] { "e" }));
        graph.Nodes.Add(new Node("Gather", new[] { "P", "positions" }, new[] { "p" }));
        graph.Nodes.Add(new Node("Add", new[] { "e", "p" }, new[] { "x" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "x", "W1" }, new[] { "h" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "h", "W2" }, new[] { "y" }));
        return new Model(graph);
    }

    [Fact]
    public void Embedding_tables_are_left_dense_by_default()
    {
        var (_, layers) = Pruner.Prune(Embedder(), new PruneSettings { Sparsity = 0.5 });
        Assert.Equal(new[] { "W1" }, layers.Select(l => l.WeightName));
    }

    [Fact]
    public void Embeddings_flag_prunes_the_gather_tables_to_the_exact_sparsity()
    {
        var settings = new PruneSettings { Sparsity = 0.75, Targets = new TargetSelection { Embeddings = true, OpTypes = ["MatMul"] } };
        var (pruned, layers) = Pruner.Prune(Embedder(), settings);
        Assert.Equal(new[] { "W1", "E", "P" }, layers.Select(l => l.WeightName));
        Assert.Equal("Gather", layers[1].OpType);
        foreach (var l in layers) Assert.Equal(0.75, l.Sparsity);
        var e = pruned.Graph.Initializers["E"].As<float>().ToArray();
        Assert.Equal(20 * 8 / 4, e.Count(v => v != 0));
        // The classifier stays dense.
        Assert.Equal(Embedder().Graph.Initializers["W2"].As<float>().ToArray(), pruned.Graph.Initializers["W2"].As<float>().ToArray());
    }

    [Fact]
    public void NM_groups_of_an_embedding_table_run_along_each_token_vector()
    {
        var settings = new PruneSettings { Pattern = PruningPattern.NM(2, 4), Targets = new TargetSelection { Embeddings = true, Include = ["^E$"] } };
        var (pruned, layers) = Pruner.Prune(Embedder(), settings);
        Assert.Equal("E", Assert.Single(layers).WeightName);
        // Stored [V, D] is already [out, in]: rows are tokens, groups of 4 run along D.
        Assert.NotNull(SparseKernelTable.Find("NM 2:4").TryCreate(pruned.Graph.Initializers["E"].As<float>().ToArray(), 20, 8, null));
    }

    [Fact]
    public void Calibrated_methods_refuse_embedding_tables()
    {
        var settings = new PruneSettings { Sparsity = 0.5, Targets = new TargetSelection { Embeddings = true } };
        var e = Assert.Throws<PruningRequestException>(() => CalibratedPruner.Wanda(Embedder(), settings, []));
        Assert.Contains("embedding tables", e.Message);
    }
}
