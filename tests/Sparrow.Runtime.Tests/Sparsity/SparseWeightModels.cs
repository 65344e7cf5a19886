using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Sparsity;

/// <summary>One-node MatMul, Gemm and Linear models over a sparse constant weight, with a double-precision reference.</summary>
internal static class SparseWeightModels
{
    /// <summary>A weight [N, K] (rows = outputs) whose zeros follow 2:4 along K (so every table entry holds it), about half zero.</summary>
    public static float[] TwoOfFour(Random random, int n, int k)
    {
        var w = new float[n * k];
        for (var r = 0; r < n; r++)
        for (var g = 0; g < k; g += 4)
        {
            var first = random.Next(4);
            var second = (first + 1 + random.Next(3)) % 4;
            foreach (var p in new[] { first, second })
                if (g + p < k) w[r * k + g + p] = random.NextSingle() * 2 - 1;
        }
        return w;
    }

    /// <summary>A weight [N, K] with the given fraction of zeros at random positions.</summary>
    public static float[] Unstructured(Random random, int n, int k, double sparsity)
    {
        var w = new float[n * k];
        for (var i = 0; i < w.Length; i++)
            if (random.NextDouble() >= sparsity) w[i] = random.NextSingle() * 2 - 1;
        return w;
    }

    public static float[] RandomValues(Random random, int count)
    {
        var v = new float[count];
        for (var i = 0; i < v.Length; i++) v[i] = random.NextSingle() * 2 - 1;
        return v;
    }

    /// <summary>[N, K] as [K, N] (ONNX MatMul's weight layout).</summary>
    public static float[] Transpose(float[] w, int rows, int columns)
    {
        var t = new float[w.Length];
        for (var r = 0; r < rows; r++)
        for (var c = 0; c < columns; c++)
            t[c * rows + r] = w[r * columns + c];
        return t;
    }

    /// <summary>A model of one node "n" with graph input "x", initializers "w" and (optional) "c", output "y".</summary>
    public static Model Build(string opType, int[] xShape, Tensor w, Tensor? c = null, string domain = "", params NodeAttribute[] attributes)
    {
        var graph = new ModelGraph { Name = opType };
        var inputs = c is null ? new[] { "x", "w" } : new[] { "x", "w", "c" };
        var node = new Node(opType, inputs, ["y"], "n", domain);
        node.Attributes.AddRange(attributes);
        graph.Nodes.Add(node);
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, xShape.Select(d => Dimension.Fixed(d)).ToArray()));
        graph.Initializers["w"] = w;
        if (c is not null) graph.Initializers["c"] = c;
        graph.Outputs.Add(new ValueInfo("y", DataType.Undefined, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        if (domain.Length > 0) model.OpsetImports[domain] = 1;
        return model;
    }

    public static Model Linear(int[] xShape, float[] wRowsByColumns, int n, int k, float[]? bias, string activation) =>
        Build("Linear", xShape, Tensor<float>.FromArray(Transpose(wRowsByColumns, n, k), k, n),
            bias is null ? null : Tensor<float>.FromArray(bias, n), OperatorContext.SparrowDomain, NodeAttribute.String("activation", activation));

    public static SessionOptions Options(string kernel, string? cachePath = null) => new()
    {
        SparseKernel = kernel,
        OptimizeGraph = false,
        IntraOpThreads = 2,
        UseKernelCache = cachePath is not null,
        KernelCachePath = cachePath,
    };

    /// <summary>Runs the model's one output on x.</summary>
    public static float[] Run(InferenceSession session, Tensor<float> x)
    {
        var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = x });
        using var y = outputs["y"];
        return y.As<float>().Span.ToArray();
    }

    public static void AssertClose(double[] expected, float[] actual, string label, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"{label}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    public static double Gelu(double x)
    {
        // erf by its Maclaurin series, exact enough for |x| < 4.
        double term = x / Math.Sqrt(2), sum = term, z = term;
        for (var i = 1; i < 120; i++)
        {
            term *= -z * z / i;
            sum += term / (2 * i + 1);
        }
        return 0.5 * x * (1 + 2 / Math.Sqrt(Math.PI) * sum);
    }
}
