using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Fuzz;

/// <summary>
/// What the fuzzer (and the regression test over its crash corpus) runs on one input: import the bytes as an ONNX
/// model, compile a session when it imports, and run it once on zero inputs when every input shape is fixed and small.
/// A clear refusal (<see cref="ModelException"/>, <see cref="InferenceException"/>, <see cref="NotSupportedException"/>
/// from an operator's constructor) is the expected outcome for a broken file; anything else escapes and is a crash.
/// </summary>
public static class LoaderTarget
{
    /// <summary>Tight limits so that one input cannot take long or much memory, as a service loading strangers' models would set them.</summary>
    public static OnnxLoadOptions Limits { get; } = new()
    {
        MaxTensorElements = 1 << 20,
        MaxTotalWeightBytes = 64L << 20,
        MaxNodes = 10_000,
        MinSparseExpansionBytes = 16L << 20,
    };

    /// <summary>A small real model (MatMul, Add, Relu, MatMul, Softmax; 8 → 16 → 4) with fixed-seed weights: a seed for fuzzing and mutation tests.</summary>
    public static Model SmallMlp(int seed = 7)
    {
        var random = new Random(seed);
        float[] Weights(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var graph = new ModelGraph { Name = "mlp" };
        graph.Initializers["W1"] = Tensor<float>.FromArray(Weights(8 * 16), 8, 16);
        graph.Initializers["B1"] = Tensor<float>.FromArray(Weights(16), 16);
        graph.Initializers["W2"] = Tensor<float>.FromArray(Weights(16 * 4), 16, 4);
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Fixed(2), Dimension.Fixed(8) }));
        graph.Outputs.Add(new ValueInfo("p", DataType.Float32, null));
        graph.Nodes.Add(new Node("MatMul", new[] { "x", "W1" }, new[] { "h0" }));
        graph.Nodes.Add(new Node("Add", new[] { "h0", "B1" }, new[] { "h1" }));
        graph.Nodes.Add(new Node("Relu", new[] { "h1" }, new[] { "h2" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "h2", "W2" }, new[] { "logits" }));
        graph.Nodes.Add(new Node("Softmax", new[] { "logits" }, new[] { "p" }));
        return new Model(graph);
    }

    /// <summary>Most elements of a zero input the target makes to run a session.</summary>
    private const long MaxInputElements = 1 << 16;

    /// <summary>Loads <paramref name="bytes"/> and, when it loads, compiles and runs it; returns how far it got.</summary>
    public static string Run(byte[] bytes) => Explain(bytes).Stage;

    /// <summary>As <see cref="Run"/>, with the clear error that stopped it (null when it ran or had nothing to run).</summary>
    public static (string Stage, Exception? Error) Explain(byte[] bytes)
    {
        Model model;
        try
        {
            model = OnnxImporter.Load(bytes, baseDirectory: null, sourceName: "fuzz", options: Limits);
        }
        catch (ModelException e)
        {
            return ("refused at import", e);
        }

        InferenceSession session;
        try
        {
            session = new InferenceSession(model, new SessionOptions { IntraOpThreads = 1, UseKernelCache = false, SparseKernel = "dense", CheckNumerics = false });
        }
        catch (Exception e) when (e is ModelException or NotSupportedException or InferenceException)
        {
            return ("refused at compile", e);
        }

        using (session)
        {
            var inputs = new Dictionary<string, Tensor>();
            foreach (var info in session.InputMetadata)
            {
                if (info.Shape is null || info.Shape.Any(d => d.Value is not { } v || v < 0) || !DataTypes.IsSupported(info.ElementType))
                    return ("compiled (inputs not fixed)", null);
                var shape = info.Shape.Select(d => (int)Math.Min(d.Value!.Value, int.MaxValue)).ToArray();
                var count = shape.Aggregate(1L, (a, b) => a * b);
                if (count > MaxInputElements || shape.Length > 8) return ("compiled (inputs too large)", null);
                inputs[info.Name] = Tensor.Allocate(info.ElementType, shape);
            }
            try
            {
                var outputs = session.Run(inputs);
                foreach (var t in outputs.Values) t.Dispose();
                return ("ran", null);
            }
            catch (InferenceException e)
            {
                return ("refused at run", e);
            }
            finally
            {
                foreach (var t in inputs.Values) t.Dispose();
            }
        }
    }
}
