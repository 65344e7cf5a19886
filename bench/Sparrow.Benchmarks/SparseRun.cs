using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Benchmarks;

/// <summary>
/// One sparse benchmark case: a table entry (or the dense baseline) at a sparsity level. Cases whose mask the
/// entry's N:M pattern cannot hold (NM 2:4 on an unstructured mask) are never made.
/// </summary>
public sealed record SparseCase(string Kernel, string Sparsity)
{
    /// <summary>Our dense GEMM with a prepacked weight, as the Linear operator runs it: the baseline.</summary>
    public const string Dense = "Dense";

    public override string ToString() => Kernel == Dense ? Dense : $"{Kernel} @ {Sparsity}";
}

/// <summary>Weights, masks and operands for one shape and case, and the call that multiplies them.</summary>
public sealed class SparseRun
{
    private readonly float[] _x;
    private readonly float[] _y;
    private readonly int _rows;
    private readonly int _threads;
    private readonly PackedMatrix? _packed;
    private readonly ISparseMatrix? _sparse;
    private readonly int _out;
    private readonly int _in;

    public SparseRun(int outFeatures, int inFeatures, int rows, SparseCase @case, int threads)
    {
        _out = outFeatures;
        _in = inFeatures;
        _rows = rows;
        _threads = threads;
        var random = new Random(42);
        var dense = new float[(long)outFeatures * inFeatures];
        for (var i = 0; i < dense.Length; i++) dense[i] = (float)(random.NextDouble() * 2 - 1);
        _x = new float[rows * inFeatures];
        for (var i = 0; i < _x.Length; i++) _x[i] = (float)(random.NextDouble() * 2 - 1);
        _y = new float[rows * outFeatures];
        if (@case.Kernel == SparseCase.Dense)
        {
            _packed = PackedMatrix.Pack(dense, inFeatures, outFeatures, transposed: true, maxThreads: threads);
            return;
        }
        var mask = Mask(dense, outFeatures, inFeatures, @case.Sparsity);
        for (var i = 0; i < dense.Length; i++) if (!mask[i]) dense[i] = 0;
        _sparse = SparseKernelTable.Find(@case.Kernel).TryCreate(dense, outFeatures, inFeatures, mask)
            ?? throw new InvalidOperationException($"{@case.Kernel} cannot hold a {@case.Sparsity} mask.");
    }

    /// <summary>Bytes of the weight as the kernel reads it.</summary>
    public long WeightBytes => _sparse?.SizeInBytes ?? _packed!.ByteCount;

    public double Flops => 2.0 * _rows * _out * _in;

    public void Execute()
    {
        if (_sparse is not null) _sparse.Multiply(_x, _rows, _y, default, FusedActivation.None, _threads);
        else Sgemm.Multiply(_rows, _x, _in, false, _packed!, _y, _out, maxThreads: _threads);
    }

    /// <summary>Whether a table entry can hold a mask of this sparsity ("90%", "2:4").</summary>
    public static bool Accepts(SparseKernelTable.Entry entry, string sparsity) =>
        entry.Pattern is not { } p
        // An n:m mask follows N:M when M groups are whole groups of m with at most N kept in all of them.
        || (TryPattern(sparsity, out var n, out var m) && p.M % m == 0 && n * (p.M / m) <= p.N);

    private static bool TryPattern(string sparsity, out int n, out int m)
    {
        n = m = 0;
        var parts = sparsity.Split(':');
        return parts.Length == 2 && int.TryParse(parts[0], out n) && int.TryParse(parts[1], out m) && n > 0 && m > n;
    }

    /// <summary>
    /// Magnitude masks with a fixed seed: unstructured, |w| below the fraction goes (the values are uniform in
    /// (-1, 1)); N:M, the N largest |w| of each group of M consecutive inputs stay.
    /// </summary>
    public static bool[] Mask(float[] dense, int rows, int columns, string sparsity)
    {
        var mask = new bool[dense.Length];
        if (!TryPattern(sparsity, out var n, out var m))
        {
            var threshold = float.Parse(sparsity.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture) / 100;
            for (var i = 0; i < dense.Length; i++) mask[i] = Math.Abs(dense[i]) >= threshold;
            return mask;
        }
        var order = new int[m];
        for (var r = 0; r < rows; r++)
            for (var g = 0; g < columns; g += m)
            {
                var size = Math.Min(m, columns - g);
                var start = (long)r * columns + g;
                for (var k = 0; k < size; k++) order[k] = k;
                Array.Sort(order, 0, size, Comparer<int>.Create((a, b) => Math.Abs(dense[start + b]).CompareTo(Math.Abs(dense[start + a]))));
                for (var k = 0; k < Math.Min(n, size); k++) mask[start + order[k]] = true;
            }
        return mask;
    }
}
