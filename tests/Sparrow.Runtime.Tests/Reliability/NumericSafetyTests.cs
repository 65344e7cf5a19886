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

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_non_finite_weight_is_refused_at_session_creation_by_name(float poison)
    {
        var model = LoaderTarget.SmallMlp();
        model.Graph.Initializers["W2"].As<float>().Span[17] = poison;
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model));
        Assert.Contains("weight 'W2'", e.Message);
        Assert.Contains("element 17", e.Message);
        Assert.Contains(poison.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void A_non_finite_constant_node_is_refused_by_name()
    {
        var model = LoaderTarget.SmallMlp();
        var b1 = model.Graph.Initializers["B1"].Clone();
        b1.As<float>().Span[2] = float.NaN;
        model.Graph.Initializers.Remove("B1");
        var constant = new Node("Constant", [], ["B1"], "bias_constant");
        constant.SetAttribute(NodeAttribute.TensorValue("value", b1));
        model.Graph.Nodes.Insert(0, constant);
        var e = Assert.Throws<ModelException>(() => new InferenceSession(model));
        Assert.Contains("constant 'B1'", e.Message);
    }

    [Fact]
    public void The_weight_check_can_be_turned_off()
    {
        var model = LoaderTarget.SmallMlp();
        model.Graph.Initializers["W1"].As<float>().Span[0] = float.NegativeInfinity;
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
