using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Sparsity;

/// <summary>Session thresholds (<see cref="SessionOptions.ActivationThresholds"/>) on MatMul and fused Linear layers.</summary>
public sealed class ActivationSparsityTests
{
    private const int In = 40, Hidden = 37, Out = 19;

    /// <summary>x → MatMul W1 + b1 → Relu (fused into one Linear when optimized) → MatMul W2 → y.</summary>
    private static (Model Model, float[] W1, float[] B1, float[] W2) Build(int seed)
    {
        var random = new Random(seed);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] w1 = Random(In * Hidden), b1 = Random(Hidden), w2 = Random(Hidden * Out);
        var graph = new ModelGraph { Name = "mlp" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, [new Dimension(null, "n"), new Dimension(In, null)]));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Initializers["W1"] = Tensor<float>.FromArray(w1, In, Hidden);
        graph.Initializers["b1"] = Tensor<float>.FromArray(b1, Hidden);
        graph.Initializers["W2"] = Tensor<float>.FromArray(w2, Hidden, Out);
        graph.Nodes.Add(new Node("MatMul", ["x", "W1"], ["p1"], "mm1"));
        graph.Nodes.Add(new Node("Add", ["p1", "b1"], ["s1"], "add1"));
        graph.Nodes.Add(new Node("Relu", ["s1"], ["h"], "relu1"));
        graph.Nodes.Add(new Node("MatMul", ["h", "W2"], ["y"], "mm2"));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        return (model, w1, b1, w2);
    }

    /// <summary>The MLP in double precision, each layer's inputs thresholded first when the thresholds are given.</summary>
    private static double[] Reference(float[] x, float[] w1, float[] b1, float[] w2, float? t1, float? t2)
    {
        var rows = x.Length / In;
        var y = new double[rows * Out];
        for (var r = 0; r < rows; r++)
        {
            var h = new double[Hidden];
            for (var j = 0; j < Hidden; j++)
            {
                double s = b1[j];
                for (var p = 0; p < In; p++)
                {
                    var v = x[r * In + p];
                    if (t1 is { } t && !(MathF.Abs(v) > t)) continue;
                    s += (double)v * w1[p * Hidden + j];
                }
                h[j] = Math.Max(0, s);
            }
            for (var j = 0; j < Out; j++)
            {
                double s = 0;
                for (var p = 0; p < Hidden; p++)
                {
                    if (t2 is { } t && !(Math.Abs((float)h[p]) > t)) continue;
                    s += h[p] * w2[p * Out + j];
                }
                y[r * Out + j] = s;
            }
        }
        return y;
    }

    private static float[] Run(Model model, float[] x, SessionOptions options)
    {
        using var session = new InferenceSession(model, options);
        using var y = (Tensor<float>)session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(x, x.Length / In, In) })["y"];
        return y.Span.ToArray();
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"y[{i}] = {actual[i]}, expected {expected[i]}");
    }

    private static float[] Input(int rows, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows * In).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OneRowSkipsInputsUnderTheThresholdAndMoreRowsRunDense(bool optimize)
    {
        var (model, w1, b1, w2) = Build(11);
        var thresholds = new Dictionary<string, float> { ["W1"] = 0.5f, ["W2"] = 0.8f };
        var options = new SessionOptions { IntraOpThreads = 1, OptimizeGraph = optimize, UseKernelCache = false, ActivationThresholds = thresholds };

        var one = Input(1, 5);
        var sparse = Reference(one, w1, b1, w2, 0.5f, 0.8f);
        var dense = Reference(one, w1, b1, w2, null, null);
        AssertClose(sparse, Run(model, one, options));
        // The thresholds matter here: the dense answer differs (so the check above can fail).
        Assert.Contains(sparse.Zip(dense), p => Math.Abs(p.First - p.Second) > 1e-2);

        var three = Input(3, 6);
        AssertClose(Reference(three, w1, b1, w2, null, null), Run(model, three, options));
        options.ThresholdEveryRow = true;
        AssertClose(Reference(three, w1, b1, w2, 0.5f, 0.8f), Run(model, three, options));
    }

    [Fact]
    public void LayersWithoutAThresholdAndSessionsWithoutThresholdsStayDense()
    {
        var (model, w1, b1, w2) = Build(12);
        var one = Input(1, 7);
        var options = new SessionOptions { IntraOpThreads = 1, UseKernelCache = false, ActivationThresholds = new Dictionary<string, float> { ["W2"] = 10f } };
        // Every hidden value is under 10: only b-free W2 is skipped entirely, so y = 0.
        AssertClose(new double[Out], Run(model, one, options));
        AssertClose(Reference(one, w1, b1, w2, null, null), Run(model, one, new SessionOptions { IntraOpThreads = 1, UseKernelCache = false }));
    }

    [Fact]
    public void RejectsANegativeThreshold()
    {
        var (model, _, _, _) = Build(13);
        var options = new SessionOptions { UseKernelCache = false, ActivationThresholds = new Dictionary<string, float> { ["W1"] = -1f } };
        Assert.ThrowsAny<Exception>(() => new InferenceSession(model, options).Dispose());
    }
}
