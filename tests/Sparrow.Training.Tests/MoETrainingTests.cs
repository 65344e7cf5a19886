using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Training.Autograd;
using Sparrow.Training.Backward;
using Sparrow.Training.Optimization;
using static Sparrow.Training.Tests.GraphCases;

namespace Sparrow.Training.Tests;

/// <summary>The ai.sparrow:MoE backward rule and the router losses, against central finite differences.</summary>
public class MoETrainingTests
{
    /// <summary>One MoE node over trainable X and weights; outputs y (and the router logits when asked).</summary>
    private static (Model Model, string[] Parameters) MoEModel(int seed, int tokens, int d, int h, int experts, bool biases, params NodeAttribute[] attributes)
    {
        var graph = new ModelGraph { Name = "moe" };
        graph.Initializers["x"] = Random(seed, tokens, d);
        graph.Initializers["router"] = Random(seed + 1, experts, d);
        graph.Initializers["w1"] = Scaled(Random(seed + 2, experts, h, d), 0.5f);
        graph.Initializers["w2"] = Scaled(Random(seed + 3, experts, d, h), 0.5f);
        if (biases)
        {
            graph.Initializers["router_bias"] = Random(seed + 4, experts);
            graph.Initializers["b1"] = Random(seed + 5, experts, h);
            graph.Initializers["b2"] = Random(seed + 6, experts, d);
        }
        var inputs = biases ? new[] { "x", "router", "router_bias", "w1", "b1", "w2", "b2" } : ["x", "router", "", "w1", "", "w2"];
        var node = new Node("MoE", inputs, ["y", "counts", "logits"], "moe", "ai.sparrow");
        node.Attributes.AddRange(attributes);
        graph.Nodes.Add(node);
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Outputs.Add(new ValueInfo("logits", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        model.OpsetImports["ai.sparrow"] = 1;
        return (model, inputs.Where(i => i.Length > 0).ToArray());
    }

    private static Tensor<float> Scaled(Tensor<float> t, float factor)
    {
        var s = t.Span;
        for (var i = 0; i < s.Length; i++) s[i] *= factor;
        return t;
    }

    public static TheoryData<string> RuleCases => new(["gelu_k2", "relu_k1_no_bias", "k3_unnormalised", "unweighted_k4", "capacity", "logits_output"]);

    [Theory]
    [MemberData(nameof(RuleCases))]
    public void Backward_matches_finite_differences(string name)
    {
        var (model, parameters) = name switch
        {
            "gelu_k2" => MoEModel(10, 6, 5, 7, 4, true, NodeAttribute.Int("k", 2)),
            "relu_k1_no_bias" => MoEModel(20, 7, 4, 6, 3, false, NodeAttribute.Int("k", 1), NodeAttribute.String("activation", "relu")),
            "k3_unnormalised" => MoEModel(30, 5, 4, 5, 5, true, NodeAttribute.Int("k", 3), NodeAttribute.Int("normalize_gates", 0)),
            "unweighted_k4" => MoEModel(40, 5, 4, 5, 4, true, NodeAttribute.Int("k", 4), NodeAttribute.Int("gate_weighted", 0)),
            "capacity" => MoEModel(50, 8, 4, 5, 4, true, NodeAttribute.Int("k", 2), NodeAttribute.Float("capacity_factor", 0.75f)),
            _ => MoEModel(60, 6, 4, 5, 4, true, NodeAttribute.Int("k", 2)),
        };
        var graph = new TrainingGraph(model, parameters);
        var output = name == "logits_output" ? "logits" : "y";
        var checkedCount = FiniteDifferenceCheck.Run(graph, new Dictionary<string, Tensor>(), output, seed: 12345, samplesPerParameter: 16,
            absoluteTolerance: 2e-3, relativeTolerance: 1e-2, label: name + ": ");
        Assert.True(checkedCount > 0);
    }

    [Fact]
    public void The_rule_is_registered() => Assert.True(BackwardRegistry.IsSupported("ai.sparrow", "MoE"));

    /// <summary>Σ y·r + load balance + z-loss, differentiated through the MoE node, against central differences of the whole sum.</summary>
    [Fact]
    public void Auxiliary_losses_flow_through_the_router_logits_into_the_parameters()
    {
        var (model, parameters) = MoEModel(70, 8, 4, 5, 4, true, NodeAttribute.Int("k", 2));
        var graph = new TrainingGraph(model, parameters);
        var random = new Random(3);
        var r = Enumerable.Range(0, 8 * 4).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        double Loss(bool backward)
        {
            using var pass = graph.Forward(new Dictionary<string, Tensor>());
            var y = pass.FloatValue("y");
            var logits = pass.FloatValue("logits");
            double total = 0;
            for (var i = 0; i < r.Length; i++) total += y.Span[i] * r[i];
            var balanceGradient = new float[logits.Length];
            var zGradient = new float[logits.Length];
            total += Losses.LoadBalancing(logits, 2, 0.5, balanceGradient);
            total += Losses.RouterZLoss(logits, 0.1, zGradient);
            if (backward)
            {
                for (var i = 0; i < zGradient.Length; i++) balanceGradient[i] += zGradient[i];
                pass.Backward(new Dictionary<string, Tensor<float>>
                {
                    ["y"] = Tensor<float>.FromArray(r, 8, 4),
                    ["logits"] = Tensor<float>.FromArray(balanceGradient, logits.CopyShape()),
                });
            }
            return total;
        }
        Loss(backward: true);
        const float Epsilon = 1e-2f;
        foreach (var parameter in graph.Parameters.Where(p => p.Name is "router" or "router_bias" or "x"))
        {
            var values = parameter.Value.Span;
            for (var i = 0; i < values.Length; i += 3)
            {
                var original = values[i];
                values[i] = original + Epsilon;
                var plus = Loss(false);
                values[i] = original - Epsilon;
                var minus = Loss(false);
                values[i] = original;
                var numeric = (plus - minus) / (2 * Epsilon);
                var analytic = parameter.Gradient[i];
                Assert.True(Math.Abs(numeric - analytic) <= 2e-3 + 1e-2 * Math.Abs(numeric), $"d/d{parameter.Name}[{i}]: analytic {analytic}, numeric {numeric}");
            }
        }
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 0.3)]
    [InlineData(3, 2.0)]
    public void Router_losses_match_finite_differences(int k, double coefficient)
    {
        var random = new Random(k);
        int tokens = 9, experts = 5;
        var logits = Enumerable.Range(0, tokens * experts).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var tensor = Tensor<float>.FromArray(logits, 3, 3, experts);
        var balance = new float[logits.Length];
        var z = new float[logits.Length];
        Losses.LoadBalancing(tensor, k, coefficient, balance);
        Losses.RouterZLoss(tensor, coefficient, z);
        const float Epsilon = 1e-3f;
        var scratch = new float[logits.Length];
        for (var i = 0; i < logits.Length; i++)
        {
            var original = logits[i];
            logits[i] = original + Epsilon;
            double balancePlus = Losses.LoadBalancing(tensor, k, coefficient, scratch), zPlus = Losses.RouterZLoss(tensor, coefficient, scratch);
            logits[i] = original - Epsilon;
            double balanceMinus = Losses.LoadBalancing(tensor, k, coefficient, scratch), zMinus = Losses.RouterZLoss(tensor, coefficient, scratch);
            logits[i] = original;
            Close((balancePlus - balanceMinus) / (2 * Epsilon), balance[i], $"load balance d/dlogit[{i}]");
            Close((zPlus - zMinus) / (2 * Epsilon), z[i], $"z-loss d/dlogit[{i}]");
        }
    }

    private static void Close(double numeric, double analytic, string what) =>
        Assert.True(Math.Abs(numeric - analytic) <= 5e-4 + 1e-3 * Math.Abs(numeric), $"{what}: analytic {analytic}, numeric {numeric}");

    [Fact]
    public void Load_balance_is_one_when_routing_is_uniform_and_E_when_collapsed()
    {
        // Equal logits: every probability 1/E; ties go to the lowest k experts, so f is not uniform, but P is: loss = E·Σ f/E = 1.
        var equal = Tensor<float>.Allocate([6, 4], clear: true);
        Assert.Equal(1.0, Losses.LoadBalancing(equal, 1, 1.0, new float[24]), 6);
        // Every token sure of expert 0: f_0 = 1, P_0 ≈ 1, loss ≈ E.
        var collapsed = Tensor<float>.Allocate([6, 4], clear: true);
        for (var t = 0; t < 6; t++) collapsed.Span[t * 4] = 30f;
        Assert.Equal(4.0, Losses.LoadBalancing(collapsed, 1, 1.0, new float[24]), 4);
        // z-loss of equal zero logits: (log E)².
        Assert.Equal(Math.Log(4) * Math.Log(4), Losses.RouterZLoss(equal, 1.0, new float[24]), 5);
    }
}
