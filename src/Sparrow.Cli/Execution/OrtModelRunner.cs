using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using Sparrow.Data.Models;
using Sparrow.Tensors;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;
using OrtSessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Sparrow.Cli.Execution;

/// <summary>ONNX Runtime, the reference Sparrow is checked and measured against, behind Sparrow's tensor types.</summary>
internal sealed class OrtModelRunner : IDisposable
{
    private readonly OrtSession _session;
    private readonly RunOptions _runOptions = new();

    /// <param name="allowSpinning">
    /// ORT's worker threads spin after each run by default; with two engines taking turns on the same cores that
    /// spinning would steal time from the other one, so side-by-side benchmarks turn it off.
    /// </param>
    public OrtModelRunner(LoadedModel model, int threads, bool allowSpinning = true)
    {
        var options = new OrtSessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (!allowSpinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            _session = model.Path is { } path ? new OrtSession(path, options) : new OrtSession(DefaultModel.ReadOnnx(), options);
        }
        finally
        {
            options.Dispose();
        }
        Threads = threads;
    }

    public int Threads { get; }

    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    public static string Version => OrtEnv.Instance().GetVersionString();

    /// <summary>ORT views of Sparrow tensors (pinned, not copied), to run many times.</summary>
    public BoundInputs Bind(IReadOnlyDictionary<string, Tensor> inputs) => new(inputs);

    public IDisposableReadOnlyCollection<OrtValue> Run(BoundInputs inputs) =>
        _session.Run(_runOptions, inputs.Names, inputs.Values, _session.OutputNames);

    /// <summary>Runs once and copies every output into a Sparrow tensor the caller disposes.</summary>
    public Dictionary<string, Tensor> RunToTensors(IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var bound = Bind(inputs);
        using var outputs = Run(bound);
        var result = new Dictionary<string, Tensor>();
        var i = 0;
        foreach (var value in outputs) result[_session.OutputNames[i++]] = ToTensor(value);
        return result;
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static Tensor ToTensor(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape.Select(d => checked((int)d)).ToArray();
        return info.ElementDataType switch
        {
            TensorElementType.Float => Copy<float>(value, shape),
            TensorElementType.Double => Copy<double>(value, shape),
            TensorElementType.Int64 => Copy<long>(value, shape),
            TensorElementType.Int32 => Copy<int>(value, shape),
            TensorElementType.Int16 => Copy<short>(value, shape),
            TensorElementType.Int8 => Copy<sbyte>(value, shape),
            TensorElementType.UInt8 => Copy<byte>(value, shape),
            TensorElementType.UInt16 => Copy<ushort>(value, shape),
            TensorElementType.UInt32 => Copy<uint>(value, shape),
            TensorElementType.UInt64 => Copy<ulong>(value, shape),
            TensorElementType.Bool => Copy<bool>(value, shape),
            TensorElementType.Float16 => Copy<Half>(value, shape),
            var t => throw new UsageException($"ONNX Runtime returned an output of type {t}, which Sparrow cannot compare."),
        };
    }

    private static Tensor<T> Copy<T>(OrtValue value, int[] shape) where T : unmanaged
    {
        var t = Tensor<T>.Allocate(shape, clear: false);
        value.GetTensorDataAsSpan<T>().CopyTo(t.Span);
        return t;
    }

    /// <summary>Input values ORT reads straight from Sparrow's memory, pinned until disposed.</summary>
    internal sealed class BoundInputs : IDisposable
    {
        private readonly List<OrtValue> _values = new();

        public BoundInputs(IReadOnlyDictionary<string, Tensor> inputs)
        {
            try
            {
                foreach (var (name, tensor) in inputs)
                {
                    Names.Add(name);
                    _values.Add(Create(tensor));
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public List<string> Names { get; } = new();

        public IReadOnlyCollection<OrtValue> Values => _values;

        private static OrtValue Create(Tensor tensor)
        {
            var shape = tensor.Shape.ToArray().Select(d => (long)d).ToArray();
            return tensor switch
            {
                Tensor<float> t => Wrap(t, shape),
                Tensor<long> t => Wrap(t, shape),
                Tensor<int> t => Wrap(t, shape),
                Tensor<double> t => Wrap(t, shape),
                Tensor<bool> t => Wrap(t, shape),
                Tensor<byte> t => Wrap(t, shape),
                Tensor<sbyte> t => Wrap(t, shape),
                Tensor<short> t => Wrap(t, shape),
                Tensor<ushort> t => Wrap(t, shape),
                Tensor<uint> t => Wrap(t, shape),
                Tensor<ulong> t => Wrap(t, shape),
                Tensor<Half> t => Wrap(t, shape),
                _ => throw new UsageException($"cannot pass a {DataTypes.Name(tensor.ElementType)} input to ONNX Runtime."),
            };
        }

        private static OrtValue Wrap<T>(Tensor<T> tensor, long[] shape) where T : unmanaged =>
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, tensor.Memory, shape);

        public void Dispose()
        {
            foreach (var v in _values) v.Dispose();
            _values.Clear();
        }
    }
}
