using Microsoft.ML.OnnxRuntime;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Tensors;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;
using OrtSessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Sparrow.Cli.Execution;

/// <summary>
/// ONNX Runtime's dense MatMul Y[rows, out] = X[rows, in] · W[in, out] with W a constant initializer (so ORT
/// prepacks it, as a session does with a model's weights): the reference a sparse kernel has to beat.
/// One session per weight serves every row count.
/// </summary>
internal sealed class OrtMatMul : IDisposable
{
    private readonly OrtSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly int _in;
    private readonly int _out;

    /// <param name="weight">W as a linear layer stores it: [out, in], row-major.</param>
    public OrtMatMul(float[] weight, int outFeatures, int inFeatures, int threads)
    {
        _in = inFeatures;
        _out = outFeatures;
        var transposed = new float[weight.Length];
        for (var o = 0; o < outFeatures; o++)
            for (var i = 0; i < inFeatures; i++)
                transposed[(long)i * outFeatures + o] = weight[(long)o * inFeatures + i];
        var graph = new ModelGraph { Name = "matmul" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, [Dimension.Named("rows"), Dimension.Fixed(inFeatures)]));
        graph.Initializers["w"] = Tensor<float>.FromArray(transposed, [inFeatures, outFeatures]);
        graph.Nodes.Add(new Node("MatMul", ["x", "w"], ["y"]));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, [Dimension.Named("rows"), Dimension.Fixed(outFeatures)]));
        var model = new Model(graph);
        model.OpsetImports[""] = 13;
        using var options = new OrtSessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        // Spinning worker threads would take the cores from the kernels measured in turn with ORT.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _session = new OrtSession(OnnxExporter.ToBytes(model), options);
    }

    /// <summary>Bytes of W as ORT reads it (dense float32).</summary>
    public long WeightBytes => (long)_in * _out * sizeof(float);

    /// <summary>A call bound to caller-owned X [rows, in] and Y [rows, out], run many times without copying.</summary>
    public Bound Bind(float[] x, float[] y, int rows) => new(this, x, y, rows);

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    internal sealed class Bound : IDisposable
    {
        private static readonly string[] InputNames = ["x"];
        private static readonly string[] OutputNames = ["y"];
        private readonly OrtMatMul _owner;
        private readonly OrtValue[] _inputs;
        private readonly OrtValue[] _outputs;

        public Bound(OrtMatMul owner, float[] x, float[] y, int rows)
        {
            _owner = owner;
            _inputs = [OrtValue.CreateTensorValueFromMemory(x, [rows, owner._in])];
            _outputs = [OrtValue.CreateTensorValueFromMemory(y, [rows, owner._out])];
        }

        public void Run() => _owner._session.Run(_owner._runOptions, InputNames, _inputs, OutputNames, _outputs);

        public void Dispose()
        {
            _inputs[0].Dispose();
            _outputs[0].Dispose();
        }
    }
}
