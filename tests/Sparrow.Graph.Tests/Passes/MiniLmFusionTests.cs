using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Graph.Passes;

namespace Sparrow.Graph.Tests.Passes;

/// <summary>The fusions on the real all-MiniLM-L6-v2 (opset 13, LayerNorm and GELU decomposed), embedded in Sparrow.Data.</summary>
public class MiniLmFusionTests
{
    [Fact]
    public void Fuses_13_layer_norms_6_gelus_36_linears_and_6_attentions()
    {
        var model = OnnxImporter.Load(Sparrow.Data.Models.DefaultModel.ReadOnnx());
        var outputs = model.Graph.Outputs.Select(o => o.Name).ToArray();
        var counts = Fusions.Apply(model);
        // 6 layers x 2 layer norms + the embedding layer norm; one GELU per layer; 6 linears per layer (Q, K,
        // V, attention output, intermediate, output), of which the intermediate one takes the GELU in.
        Assert.Equal(13, counts.LayerNorms);
        Assert.Equal(6, counts.Gelus);
        Assert.Equal(36, counts.Linears);
        Assert.Equal(6, counts.ActivationsFolded);
        Assert.Equal(6, counts.Attentions);
        // Of the 13 layer norms, the 12 after residual connections take their Add in; the embeddings' Add broadcasts.
        Assert.Equal(12, counts.AddLayerNorms);

        var nodes = model.Graph.Nodes;
        Assert.Equal(1, nodes.Count(n => n.OpType == "LayerNormalization"));
        Assert.Equal(12, nodes.Count(n => n is { OpType: SparrowOps.AddLayerNormalization, Domain: SparrowOps.Domain }));
        Assert.Equal(36, nodes.Count(n => n is { OpType: SparrowOps.Linear, Domain: SparrowOps.Domain }));
        Assert.Equal(6, nodes.Count(n => n.OpType == SparrowOps.Linear && n.GetString(SparrowOps.ActivationAttribute, "") == "Gelu"));
        // Nothing of the decomposed forms is left: no Erf, no Pow, no Sqrt; the attention MatMuls, Softmax and
        // head transposes are inside the 6 Attention nodes (one per layer, scores divided by √32 (12 heads of 32), mask added).
        Assert.DoesNotContain(nodes, n => n.OpType is "Erf" or "Pow" or "Sqrt" or "ReduceMean" or "MatMul" or "Softmax" or "Transpose");
        var attentions = nodes.Where(n => n is { OpType: SparrowOps.Attention, Domain: SparrowOps.Domain }).ToArray();
        Assert.Equal(6, attentions.Length);
        Assert.All(attentions, a => Assert.Equal(MathF.Sqrt(32), a.GetFloat(SparrowOps.DivisorAttribute, 0), 1e-6f));
        Assert.All(attentions, a => Assert.Equal(4, a.Inputs.Count(i => i.Length > 0)));
        Assert.All(nodes.Where(n => n.OpType is "LayerNormalization" or SparrowOps.AddLayerNormalization), n => Assert.Equal(1e-12f, n.GetFloat("epsilon", 0)));
        Assert.Equal(outputs, model.Graph.Outputs.Select(o => o.Name).ToArray());

        // Every value read is still produced, and in order.
        var available = new HashSet<string>(model.Graph.Inputs.Select(i => i.Name).Concat(model.Graph.Initializers.Keys));
        foreach (var node in nodes)
        {
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
                Assert.True(available.Contains(input), $"{node.DisplayName} reads '{input}' before it is produced");
            available.UnionWith(node.Outputs);
        }
        Assert.All(outputs, o => Assert.Contains(o, available));

        // Shape inference still follows the fused graph.
        var shapes = ShapeInference.Infer(model);
        Assert.Equal(new[] { "batch", "sequence", "384" }, shapes["last_hidden_state"].Shape!.Select(d => d.ToString()).ToArray());
    }

    [Fact]
    public void Fusing_twice_changes_nothing_more()
    {
        var model = OnnxImporter.Load(Sparrow.Data.Models.DefaultModel.ReadOnnx());
        Fusions.Apply(model);
        var count = model.Graph.Nodes.Count;
        Assert.Equal(new FusionCounts(0, 0, 0, 0, 0), Fusions.Apply(model));
        Assert.Equal(count, model.Graph.Nodes.Count);
    }
}
