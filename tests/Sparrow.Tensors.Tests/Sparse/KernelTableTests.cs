using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Tensors.Tests.Sparse;

/// <summary>Every entry of <see cref="SparseKernelTable"/> against a naive dense reference.</summary>
public class KernelTableTests
{
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var entry in SparseKernelTable.All) data.Add(entry.Name);
        return data;
    }

    /// <summary>Every entry at every vector width the kernels have (0 = the widest; 1 = scalar).</summary>
    public static TheoryData<string, int> NamesAndWidths()
    {
        var data = new TheoryData<string, int>();
        foreach (var entry in SparseKernelTable.All)
            foreach (var width in new[] { 0, 256, 128, 1 }) data.Add(entry.Name, width);
        return data;
    }

    private static readonly (int Rows, int Columns)[] Shapes =
    [
        (0, 0), (0, 5), (5, 0), (1, 1), (2, 3), (3, 7), (7, 15), (15, 16), (16, 17), (17, 31), (31, 33), (33, 63),
        (63, 100), (100, 255), (255, 257), (257, 33), (16, 16), (1, 257), (40, 64), (100, 32),
    ];

    private static readonly double[] Sparsities = [0, 0.5, 0.9, 0.99, 1.0];

    /// <summary>
    /// A random matrix where each element is pruned with probability <paramref name="sparsity"/>; some rows and
    /// columns are pruned entirely. With a mask, pruned elements keep random values (the mask decides); without,
    /// they are zero.
    /// </summary>
    internal static (float[] Dense, bool[]? Mask, float[] Effective) RandomMatrix(Random random, int rows, int columns, double sparsity, bool useMask,
        (int N, int M)? pattern = null)
    {
        var dense = new float[rows * columns];
        var mask = new bool[rows * columns];
        var effective = new float[rows * columns];
        var emptyRow = rows > 2 ? random.Next(rows) : -1;
        var emptyColumn = columns > 2 ? random.Next(columns) : -1;
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
            {
                var i = r * columns + c;
                var value = (float)(random.NextDouble() * 2 - 1);
                var kept = random.NextDouble() >= sparsity && r != emptyRow && c != emptyColumn;
                // An N:M pattern: once a group of M columns keeps N, the rest of the group is pruned.
                if (kept && pattern is { } p && KeptInGroup(mask, r * columns + c - c % p.M, c % p.M) >= p.N) kept = false;
                mask[i] = kept;
                dense[i] = useMask || kept ? value : 0f;
                effective[i] = kept ? value : 0f;
            }
        return (dense, useMask ? mask : null, effective);
    }

    private static int KeptInGroup(bool[] mask, int groupStart, int before)
    {
        var kept = 0;
        for (var i = 0; i < before; i++) if (mask[groupStart + i]) kept++;
        return kept;
    }

    internal static float[] Reference(float[] w, int rows, int columns, float[] x, int m, float[]? bias, FusedActivation activation)
    {
        var y = new float[m * rows];
        for (var i = 0; i < m; i++)
            for (var r = 0; r < rows; r++)
            {
                double sum = bias?[r] ?? 0;
                for (var k = 0; k < columns; k++) sum += (double)x[i * columns + k] * w[r * columns + k];
                var v = (float)sum;
                y[i * rows + r] = activation switch
                {
                    FusedActivation.Relu => MathF.Max(v, 0f),
                    FusedActivation.Gelu => (float)(0.5 * v * (1 + Erf(v / Math.Sqrt(2)))),
                    _ => v,
                };
            }
        return y;
    }

    // erf by its Taylor series (small |z|) or continued fraction; accurate to ~1e-12 here, enough as a reference.
    private static double Erf(double z)
    {
        var sign = Math.Sign(z);
        z = Math.Abs(z);
        if (z > 6) return sign;
        double sum = 0, term = z, n = 0;
        if (z < 3)
        {
            while (Math.Abs(term) > 1e-17)
            {
                sum += term / (2 * n + 1);
                n++;
                term *= -z * z / n;
            }
            return sign * 2 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc continued fraction
        double f = 0;
        for (var k = 60; k >= 1; k--) f = k / 2.0 / (z + f);
        return sign * (1 - Math.Exp(-z * z) / Math.Sqrt(Math.PI) / (z + f));
    }

    internal static void AssertClose(float[] expected, float[] actual, string what)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            var a = actual[i];
            var tolerance = 1e-4 * Math.Max(1, Math.Abs(e)) + 1e-4;
            if (!(Math.Abs(e - a) <= tolerance))
                Assert.Fail($"{what}: element {i} is {a}, expected {e}");
        }
    }

    [Theory]
    [MemberData(nameof(NamesAndWidths))]
    public void MatchesDenseReference(string name, int widthLimit)
    {
        CsrKernelSupport.WidthLimitForTests = widthLimit;
        try
        {
            CheckAgainstReference(name);
        }
        finally
        {
            CsrKernelSupport.WidthLimitForTests = 0;
        }
    }

    private static void CheckAgainstReference(string name)
    {
        var entry = SparseKernelTable.Find(name);
        var random = new Random(1234);
        int[] ms = [0, 1, 2, 3, 5, 8, 16, 17, 33];
        var activations = new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Gelu };
        var caseIndex = 0;
        foreach (var (rows, columns) in Shapes)
            foreach (var sparsity in Sparsities)
            {
                var useMask = caseIndex % 2 == 1;
                var (dense, mask, effective) = RandomMatrix(random, rows, columns, sparsity, useMask, entry.Pattern);
                var w = entry.Create(dense, rows, columns, mask);
                Assert.Equal(rows, w.Rows);
                Assert.Equal(columns, w.Columns);
                var back = w.ToDense();
                Assert.Equal(effective, back);
                // Large shapes: a few m values each, so the whole theory stays fast.
                var mValues = rows * columns > 10000 ? new[] { ms[caseIndex % 3], 1, ms[3 + caseIndex % 6] } : ms;
                foreach (var m in mValues)
                {
                    caseIndex++;
                    var x = Enumerable.Range(0, m * columns).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
                    var bias = caseIndex % 3 == 0 ? null : Enumerable.Range(0, rows).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
                    var activation = activations[caseIndex % 3];
                    var expected = Reference(effective, rows, columns, x, m, bias, activation);
                    foreach (var threads in new[] { 1, 2 })
                    {
                        var y = Enumerable.Repeat(float.NaN, m * rows + 3).ToArray();
                        // Two threads even on small products, so that the multi-threaded paths run here too.
                        CsrKernelSupport.ThreadsForSmallWorkInTests = threads > 1;
                        try
                        {
                            w.Multiply(x, m, y, bias, activation, threads);
                        }
                        finally
                        {
                            CsrKernelSupport.ThreadsForSmallWorkInTests = false;
                        }
                        AssertClose(expected, y[..(m * rows)], $"{name} {rows}x{columns} sparsity {sparsity} m={m} threads={threads} {activation} bias={bias != null}");
                        // Past the output: untouched.
                        Assert.True(y.Skip(m * rows).All(float.IsNaN), "wrote past the output");
                    }
                }
            }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void SizeAndStoredValuesAreConsistent(string name)
    {
        var entry = SparseKernelTable.Find(name);
        var (dense, mask, _) = RandomMatrix(new Random(7), 64, 96, 0.9, false, entry.Pattern);
        var w = entry.Create(dense, 64, 96, mask);
        Assert.Equal(entry.Format, w.Format);
        Assert.True(w.StoredValues >= dense.Count(v => v != 0));
        Assert.True(w.SizeInBytes >= w.StoredValues * sizeof(float));
        Assert.False(string.IsNullOrEmpty(w.Description));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TryCreate_RefusesOnlyMatricesThatBreakThePattern(string name)
    {
        var entry = SparseKernelTable.Find(name);
        var (dense, _, _) = RandomMatrix(new Random(11), 16, 32, 0.3, false);
        var created = entry.TryCreate(dense, 16, 32, null);
        if (entry.Pattern is null)
        {
            Assert.NotNull(created);
            return;
        }
        // 30% sparse is far denser than 2:4 or 4:8 allows somewhere in 16 rows.
        Assert.Null(created);
        Assert.Throws<ArgumentException>(() => entry.Create(dense, 16, 32, null));
        var (patterned, _, effective) = RandomMatrix(new Random(11), 16, 32, 0.3, false, entry.Pattern);
        Assert.Equal(effective, entry.TryCreate(patterned, 16, 32, null)!.ToDense());
    }
}
