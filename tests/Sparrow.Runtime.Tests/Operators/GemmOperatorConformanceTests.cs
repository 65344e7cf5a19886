using Sparrow.Graph.Onnx;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

/// <summary>Skips the theory, saying why, when the ONNX node test cases are not on this machine.</summary>
public sealed class GemmNodeTestsTheoryAttribute : TheoryAttribute
{
    public GemmNodeTestsTheoryAttribute()
    {
        if (GemmOperatorConformanceTests.TestRoot() is null)
            Skip = "The ONNX node tests were not found (../shared/onnx-node-tests above the test binaries, or SPARROW_ONNX_NODE_TESTS).";
    }
}

/// <summary>
/// The ONNX backend node tests of MatMul, Gemm and Conv (../shared/onnx-node-tests): each model runs on its
/// recorded inputs and must reproduce the recorded outputs (rtol 1e-3, atol 1e-5).
/// </summary>
public class GemmOperatorConformanceTests
{
    private static readonly string[] Prefixes = ["test_matmul_", "test_gemm_", "test_conv_", "test_basic_conv_"];

    public static string? TestRoot()
    {
        if (Environment.GetEnvironmentVariable("SPARROW_ONNX_NODE_TESTS") is { Length: > 0 } configured && Directory.Exists(configured))
            return configured;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "onnx-node-tests");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        var root = TestRoot();
        if (root is null)
        {
            data.Add("(none)"); // the theory is skipped, but needs a row
            return data;
        }
        foreach (var dir in Directory.GetDirectories(root).Select(Path.GetFileName).Order())
            if (Prefixes.Any(p => dir!.StartsWith(p, StringComparison.Ordinal))) data.Add(dir!);
        return data;
    }

    [GemmNodeTestsTheory]
    [MemberData(nameof(Cases))]
    public void node_test_passes(string name)
    {
        var folder = Path.Combine(TestRoot()!, name);
        var model = OnnxImporter.Load(Path.Combine(folder, "model.onnx"));
        using var session = new InferenceSession(model, new SessionOptions { OptimizeGraph = false, IntraOpThreads = 2 });
        var inputNames = model.Graph.RequiredInputs.Select(i => i.Name).ToArray();
        var dataSets = Directory.GetDirectories(folder, "test_data_set_*").Order().ToArray();
        Assert.NotEmpty(dataSets);
        foreach (var set in dataSets)
        {
            var inputs = new Dictionary<string, Tensor>();
            for (var i = 0; i < inputNames.Length; i++)
                inputs[inputNames[i]] = OnnxImporter.LoadTensor(Path.Combine(set, $"input_{i}.pb"));
            var outputs = session.Run(inputs);
            for (var i = 0; i < model.Graph.Outputs.Count; i++)
            {
                var expected = OnnxImporter.LoadTensor(Path.Combine(set, $"output_{i}.pb"));
                var actual = outputs[model.Graph.Outputs[i].Name];
                AssertClose(expected, actual, $"{name}/{Path.GetFileName(set)} output {i}", 1e-3, 1e-5);
            }
            foreach (var t in outputs.Values) t.Dispose();
        }
    }

    internal static void AssertClose(Tensor expected, Tensor actual, string label, double rtol, double atol)
    {
        Assert.True(expected.ElementType == actual.ElementType, $"{label}: type {actual.ElementType}, expected {expected.ElementType}");
        Assert.True(expected.Shape.SequenceEqual(actual.Shape),
            $"{label}: shape {TensorShape.Format(actual.Shape)}, expected {TensorShape.Format(expected.Shape)}");
        var e = ToDoubles(expected);
        var a = ToDoubles(actual);
        for (var i = 0; i < e.Length; i++)
            if (!(Math.Abs(a[i] - e[i]) <= atol + rtol * Math.Abs(e[i])))
                Assert.Fail($"{label}: element {i} is {a[i]}, expected {e[i]}");
    }

    private static double[] ToDoubles(Tensor t) => t switch
    {
        Tensor<float> f => f.ToArray().Select(v => (double)v).ToArray(),
        Tensor<double> d => d.ToArray(),
        Tensor<int> i => i.ToArray().Select(v => (double)v).ToArray(),
        Tensor<long> l => l.ToArray().Select(v => (double)v).ToArray(),
        _ => throw new NotSupportedException(t.ToString()),
    };
}
