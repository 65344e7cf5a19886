using Microsoft.ML.OnnxRuntime;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using SparrowTensor = Sparrow.Tensors.Tensor<float>;

namespace Sparrow.Benchmarks;

/// <summary>The same product as <see cref="GemmRun"/> as a one-node MatMul model in ONNX Runtime, for a side-by-side ratio.</summary>
public sealed class OrtMatMulRun : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _outputs;
    private readonly string[] _inputNames;
    private readonly RunOptions _runOptions = new();

    public OrtMatMulRun(GemmShapes.Shape shape, int threads)
    {
        var random = new Random(42);
        long[] aShape = shape.Batch == 1 ? [shape.M, shape.K] : [shape.Batch, shape.M, shape.K];
        long[] bShape = shape.Batch == 1 ? [shape.K, shape.N] : [shape.Batch, shape.K, shape.N];
        long[] yShape = shape.Batch == 1 ? [shape.M, shape.N] : [shape.Batch, shape.M, shape.N];
        var a = Fill(random, (int)aShape.Aggregate(1L, (x, y) => x * y));
        var b = Fill(random, (int)bShape.Aggregate(1L, (x, y) => x * y));

        var graph = new ModelGraph { Name = "matmul" };
        graph.Inputs.Add(new ValueInfo("a", Sparrow.Tensors.DataType.Float32, aShape.Select(Dimension.Fixed).ToArray()));
        if (shape.Prepacked)
            graph.Initializers["b"] = SparrowTensor.FromArray(b, bShape.Select(d => (int)d).ToArray());
        else
            graph.Inputs.Add(new ValueInfo("b", Sparrow.Tensors.DataType.Float32, bShape.Select(Dimension.Fixed).ToArray()));
        graph.Nodes.Add(new Node("MatMul", ["a", "b"], ["y"]));
        graph.Outputs.Add(new ValueInfo("y", Sparrow.Tensors.DataType.Float32, yShape.Select(Dimension.Fixed).ToArray()));
        var model = new Model(graph);
        model.OpsetImports[""] = 13;

        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        _session = new InferenceSession(OnnxExporter.ToBytes(model), options);
        _inputNames = shape.Prepacked ? ["a"] : ["a", "b"];
        _inputs = shape.Prepacked
            ? [OrtValue.CreateTensorValueFromMemory(a, aShape)]
            : [OrtValue.CreateTensorValueFromMemory(a, aShape), OrtValue.CreateTensorValueFromMemory(b, bShape)];
        _outputs = [OrtValue.CreateTensorValueFromMemory(new float[yShape.Aggregate(1L, (x, y) => x * y)], yShape)];
    }

    private static float[] Fill(Random random, int length)
    {
        var data = new float[length];
        for (var i = 0; i < length; i++) data[i] = (float)random.NextDouble() - 0.5f;
        return data;
    }

    public void Execute() => _session.Run(_runOptions, _inputNames, _inputs, ["y"], _outputs);

    public void Dispose()
    {
        foreach (var v in _inputs) v.Dispose();
        foreach (var v in _outputs) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
