using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Cli.Execution;

/// <summary>FLOPs of one kind of operator in one run.</summary>
internal sealed record OpFlops(string OpType, int Nodes, long Flops);

/// <summary>
/// Counts the floating-point work of a run: MatMul, Gemm and Conv, a multiply-add counted as 2 FLOPs
/// (element-wise ops are a rounding error next to them in the models we care about). The shapes come from
/// running the model once in Sparrow: exact for the given batch and sequence, whatever the graph does.
/// </summary>
internal static class FlopCounter
{
    public static bool IsCounted(Node node) => node.Domain.Length == 0 && node.OpType is "MatMul" or "Gemm" or "Conv";

    /// <summary>Runs the model once on <paramref name="inputs"/> and counts, per op type.</summary>
    public static IReadOnlyList<OpFlops> Measure(Model model, IReadOnlyDictionary<string, Tensor> inputs, int threads)
    {
        var counted = model.Graph.Nodes.Where(IsCounted).ToArray();
        if (counted.Length == 0) return Array.Empty<OpFlops>();
        var shapes = RecordShapes(model, counted, inputs, threads);
        return counted
            .GroupBy(n => n.OpType)
            .Select(g => new OpFlops(g.Key, g.Count(), g.Sum(n => Flops(n, v => shapes.GetValueOrDefault(v)))))
            .OrderByDescending(f => f.Flops)
            .ToArray();
    }

    /// <summary>The shapes of every value the counted nodes read or write, by running a copy of the model that outputs them.</summary>
    private static Dictionary<string, int[]> RecordShapes(Model model, Node[] counted, IReadOnlyDictionary<string, Tensor> inputs, int threads)
    {
        var shapes = new Dictionary<string, int[]>();
        foreach (var (name, t) in model.Graph.Initializers) shapes[name] = t.CopyShape();
        foreach (var (name, t) in inputs) shapes[name] = t.CopyShape();
        var probe = model.Clone();
        var outputs = probe.Graph.Outputs.Select(o => o.Name).ToHashSet();
        foreach (var node in counted)
            foreach (var value in node.Inputs.Concat(node.Outputs))
                if (value.Length > 0 && !shapes.ContainsKey(value) && outputs.Add(value))
                    probe.Graph.Outputs.Add(new ValueInfo(value, DataType.Undefined, null));
        // Shapes do not depend on the weights' format: no kernel tuning here.
        using var session = new InferenceSession(probe, new SessionOptions { IntraOpThreads = threads, SparseKernel = "dense", UseKernelCache = false });
        var results = session.Run(inputs);
        try
        {
            foreach (var (name, t) in results) shapes.TryAdd(name, t.CopyShape());
        }
        finally
        {
            foreach (var t in results.Values) t.Dispose();
        }
        return shapes;
    }

    /// <summary>2 × multiply-adds of one node, from the shapes of its inputs and output; 0 when a shape is unknown.</summary>
    public static long Flops(Node node, Func<string, int[]?> shapeOf)
    {
        int[]? Shape(int i) => i < node.Inputs.Count && node.Inputs[i].Length > 0 ? shapeOf(node.Inputs[i]) : null;
        var output = node.Outputs.Count > 0 ? shapeOf(node.Outputs[0]) : null;
        if (output is null) return 0;
        long outputElements = 1;
        foreach (var d in output) outputElements *= d;
        switch (node.OpType)
        {
            case "MatMul":
            {
                // Each output element is a dot product over A's last dimension (B's first when A is a vector).
                var a = Shape(0);
                if (a is null || a.Length == 0) return 0;
                return 2 * outputElements * a[^1];
            }
            case "Gemm":
            {
                var a = Shape(0);
                if (a is null || a.Length != 2) return 0;
                var k = node.GetInt("transA", 0) != 0 ? a[0] : a[1];
                return 2 * outputElements * k;
            }
            case "Conv":
            {
                // Weight [M, C/group, k1, k2, ...]: each output element sums C/group × kernel size products.
                var w = Shape(1);
                if (w is null || w.Length < 2) return 0;
                long perOutput = 1;
                for (var i = 1; i < w.Length; i++) perOutput *= w[i];
                return 2 * outputElements * perOutput;
            }
            default:
                return 0;
        }
    }

    public static string Format(double flops) => flops switch
    {
        >= 1e12 => $"{flops / 1e12:0.###} TFLOPs",
        >= 1e9 => $"{flops / 1e9:0.###} GFLOPs",
        >= 1e6 => $"{flops / 1e6:0.###} MFLOPs",
        >= 1e3 => $"{flops / 1e3:0.###} kFLOPs",
        _ => $"{flops:0} FLOPs",
    };
}
