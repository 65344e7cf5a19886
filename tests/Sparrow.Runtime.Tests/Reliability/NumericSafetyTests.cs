using Sparrow.Fuzz;
using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Reliability;

/// <summary>NaN and infinity in weights or inputs are reported with the tensor's name instead of spreading.</summary>
public sealed class NumericSafetyTests
{
    private static Dictionary<string, Tensor> Input(float poison = 0.5f, int at = 3)
    {
        var x = Enumerable.Range(0, 16).Select(i => i * 0.1f).ToArray();
        x[at] = poison;
        return new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(x, 2, 8) };
    }

    [Fact]
    public void A_NaN_weight_is_refused_at_session_creation_by_name()
    {
        var model = LoaderTarget.SmallMlp();
        model.Graph.Initializers["W2"].As<float>().Span[17] = float.NaN;
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model));
        Assert.Contains("weight 'W2'", e.Message);
        Assert.Contains("element 17", e.Message);
        Assert.Contains("NaN", e.Message);
    }

    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Infinite_weights_are_allowed_as_masks_are(float infinity)
    {
        var model = LoaderTarget.SmallMlp();
        model.Graph.Initializers["W2"].As<float>().Span[17] = infinity;
        using var session = new InferenceSession(model, new SessionOptions { UseKernelCache = false });
        foreach (var t in session.Run(Input()).Values) t.Dispose();
    }

    /// <summary>SmallMlp with B1 given by a Constant node holding <paramref name="poison"/> at element 2.</summary>
    private static Model WithConstantBias(float poison)
    {
        var model = LoaderTarget.SmallMlp();
        var b1 = model.Graph.Initializers["B1"].Clone();
        b1.As<float>().Span[2] = poison;
        model.Graph.Initializers.Remove("B1");
        var constant = new Node("Constant", [], ["B1"], "bias_constant");
        constant.SetAttribute(NodeAttribute.TensorValue("value", b1));
        model.Graph.Nodes.Insert(0, constant);
        return model;
    }

    [Fact]
    public void A_NaN_constant_node_is_refused_by_name()
    {
        var e = Assert.Throws<ModelException>(() => new InferenceSession(WithConstantBias(float.NaN)));
        Assert.Contains("constant 'B1'", e.Message);
        Assert.Contains("element 2", e.Message);
    }

    [Fact]
    public void A_minus_infinity_constant_node_such_as_an_attention_mask_is_allowed()
    {
        using var session = new InferenceSession(WithConstantBias(float.NegativeInfinity), new SessionOptions { UseKernelCache = false });
        foreach (var t in session.Run(Input()).Values) t.Dispose();
    }

    [Fact]
    public void A_NaN_constant_inside_a_subgraph_is_refused_by_name()
    {
        var model = LoaderTarget.SmallMlp();
        // An If whose else-branch holds a NaN Constant; the check runs before the graph is compiled.
        var branch = new ModelGraph();
        var constant = new Node("Constant", [], ["poisoned"], "inner_constant");
        constant.SetAttribute(NodeAttribute.Floats("value_floats", [1f, float.NaN]));
        branch.Nodes.Add(constant);
        var conditional = new Node("If", ["cond"], ["branch_out"], "outer_if");
        conditional.SetAttribute(NodeAttribute.GraphValue("then_branch", new ModelGraph()));
        conditional.SetAttribute(NodeAttribute.GraphValue("else_branch", branch));
        model.Graph.Nodes.Add(conditional);
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model));
        Assert.Contains("constant 'poisoned'", e.Message);
        Assert.Contains("element 1", e.Message);
    }

    [Fact]
    public void The_weight_check_can_be_turned_off()
    {
        var model = LoaderTarget.SmallMlp();
        model.Graph.Initializers["W1"].As<float>().Span[0] = float.NaN;
        using var session = new InferenceSession(model, new SessionOptions { CheckWeights = false, UseKernelCache = false });
        var outputs = session.Run(Input());
        foreach (var t in outputs.Values) t.Dispose();
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void A_non_finite_input_is_refused_on_run_by_name(float poison)
    {
        using var session = new InferenceSession(LoaderTarget.SmallMlp(), new SessionOptions { UseKernelCache = false });
        var e = Assert.Throws<InferenceException>(() => session.Run(Input(poison, at: 11)));
        Assert.Contains("input 'x'", e.Message);
        Assert.Contains("element 11", e.Message);
        // The same session still runs clean inputs.
        foreach (var t in session.Run(Input()).Values) t.Dispose();
    }

    [Fact]
    public void The_input_check_can_be_turned_off_and_then_NaN_flows_through()
    {
        using var session = new InferenceSession(LoaderTarget.SmallMlp(), new SessionOptions { CheckInputs = false, UseKernelCache = false });
        var outputs = session.Run(Input(float.NaN, at: 0));
        using var p = outputs["p"];
        Assert.True(float.IsNaN(p.As<float>().Span[0]));
    }

    [Fact]
    public void All_zero_weights_and_rows_run_with_every_kernel()
    {
        foreach (var kernel in SessionOptions.SparseKernelNames)
        {
            var model = LoaderTarget.SmallMlp();
            // W1 all zero (a layer pruned to 100%), W2 with its first rows zero.
            model.Graph.Initializers["W1"].As<float>().Span.Clear();
            model.Graph.Initializers["W2"].As<float>().Span[..8].Clear();
            using var session = new InferenceSession(model, new SessionOptions { SparseKernel = kernel, UseKernelCache = false, CheckNumerics = true });
            var outputs = session.Run(Input());
            using var p = outputs["p"];
            // Relu(0 + B1) is the same for every row of x, so both rows give the same finite probabilities.
            var values = p.As<float>().Span;
            for (var j = 0; j < 4; j++) Assert.Equal(values[j], values[4 + j]);
            Assert.Equal(1f, values[..4].ToArray().Sum(), 4);
        }
    }
}
