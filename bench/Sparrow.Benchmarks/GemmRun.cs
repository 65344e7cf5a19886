using System.Numerics.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Benchmarks;

/// <summary>Operands for one shape, and the call that multiplies them.</summary>
public sealed class GemmRun : IDisposable
{
    private readonly GemmShapes.Shape _shape;
    private readonly int _threads;
    private readonly float[] _a, _b, _c, _bias;
    private readonly PackedMatrix? _packed;

    public GemmRun(GemmShapes.Shape shape, int threads)
    {
        _shape = shape;
        _threads = threads;
        var random = new Random(42);
        _a = Fill(random, shape.Batch * shape.M * shape.K);
        _b = Fill(random, shape.Batch * shape.K * shape.N);
        _c = new float[shape.Batch * shape.M * shape.N];
        _bias = Fill(random, shape.N);
        if (shape.Prepacked) _packed = PackedMatrix.Pack(_b, shape.K, shape.N);
    }

    private static float[] Fill(Random random, int length)
    {
        var data = new float[length];
        for (var i = 0; i < length; i++) data[i] = (float)random.NextDouble() - 0.5f;
        return data;
    }

    public void Execute()
    {
        var s = _shape;
        if (_packed is not null)
            Sgemm.Multiply(s.M, _a, s.K, false, _packed, _c, s.N, columnBias: s.Activation == FusedActivation.None ? default : _bias,
                activation: s.Activation, maxThreads: _threads);
        else if (s.Batch == 1)
            Sgemm.Multiply(s.M, s.N, s.K, _a, s.K, false, _b, s.N, false, _c, s.N, maxThreads: _threads);
        else
            Sgemm.MultiplyBatched(s.Batch, s.M, s.N, s.K, _a, s.K, false, s.M * s.K, _b, s.N, false, s.K * s.N,
                _c, s.N, s.M * s.N, maxThreads: _threads);
    }

    /// <summary>The straightforward loop a batched product must beat: per row, C_i += a_ip * B_p (vectorised axpy).</summary>
    public void ExecuteNaive()
    {
        var s = _shape;
        Parallel.For(0, s.Batch, new ParallelOptions { MaxDegreeOfParallelism = _threads }, item =>
        {
            var a = _a.AsSpan(item * s.M * s.K, s.M * s.K);
            var b = _b.AsSpan(item * s.K * s.N, s.K * s.N);
            var c = _c.AsSpan(item * s.M * s.N, s.M * s.N);
            for (var i = 0; i < s.M; i++)
            {
                var row = c.Slice(i * s.N, s.N);
                row.Clear();
                for (var p = 0; p < s.K; p++)
                    TensorPrimitives.MultiplyAdd(b.Slice(p * s.N, s.N), a[i * s.K + p], row, row);
            }
        });
    }

    public void Dispose()
    {
    }
}
