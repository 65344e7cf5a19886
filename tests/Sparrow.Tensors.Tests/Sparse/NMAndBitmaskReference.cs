using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Tensors.Tests.Sparse;

/// <summary>Naive dense Y = X·Wᵀ + b in double precision and the checks the N:M and bitmask tests share.</summary>
internal static class NMAndBitmaskReference
{
    public static readonly int[] Sizes = [0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 100, 255, 257];
    public static readonly int[] RowCounts = [0, 1, 2, 3, 5, 8, 16, 17, 33];
    public static readonly int[] VectorWidths = [512, 256, 128, 0];
    public static readonly FusedActivation[] ActivationsToTest = [FusedActivation.None, FusedActivation.Relu, FusedActivation.Gelu];

    public static float[] RandomValues(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>A random dense matrix where each group of m columns keeps a random count of at most n values.</summary>
    public static float[] RandomNM(Random random, int rows, int columns, int n, int m)
    {
        var dense = new float[rows * columns];
        var positions = new int[m];
        for (var r = 0; r < rows; r++)
            for (var start = 0; start < columns; start += m)
            {
                var length = Math.Min(m, columns - start);
                for (var p = 0; p < length; p++) positions[p] = p;
                random.Shuffle(positions.AsSpan(0, length));
                var kept = random.Next(Math.Min(n, length) + 1);
                for (var k = 0; k < kept; k++) dense[r * columns + start + positions[k]] = (float)(random.NextDouble() * 2 - 1) + 0.01f;
            }
        return dense;
    }

    /// <summary>A random dense matrix with the given fraction of zeros (1.0 = all zero).</summary>
    public static float[] RandomUnstructured(Random random, int rows, int columns, double sparsity)
    {
        var dense = new float[rows * columns];
        for (var i = 0; i < dense.Length; i++)
            if (random.NextDouble() >= sparsity) dense[i] = (float)(random.NextDouble() * 2 - 1) + 0.01f;
        return dense;
    }

    /// <summary>Runs <paramref name="multiply"/> into a NaN-filled output and compares with the dense reference.</summary>
    public static void Check(float[] dense, int rows, int columns, int m, bool withBias, FusedActivation activation, int seed,
        Action<float[], int, float[], float[], FusedActivation> multiply, string what)
    {
        var random = new Random(seed);
        var x = RandomValues(random, m * columns);
        var bias = withBias ? RandomValues(random, rows) : [];
        var y = new float[m * rows];
        Array.Fill(y, float.NaN);
        multiply(x, m, y, bias, activation);

        var expected = new float[m * rows];
        var magnitudes = new double[m * rows];
        for (var i = 0; i < m; i++)
            for (var r = 0; r < rows; r++)
            {
                double sum = withBias ? bias[r] : 0, magnitude = withBias ? Math.Abs(bias[r]) : 0;
                for (var c = 0; c < columns; c++)
                {
                    double product = (double)x[i * columns + c] * dense[r * columns + c];
                    sum += product;
                    magnitude += Math.Abs(product);
                }
                expected[i * rows + r] = (float)sum;
                magnitudes[i * rows + r] = magnitude;
            }
        Activations.Apply(expected, activation);
        for (var i = 0; i < expected.Length; i++)
        {
            var tolerance = 1e-4 * magnitudes[i] + 1e-5;
            if (!(Math.Abs(y[i] - expected[i]) <= tolerance))
                Assert.Fail($"{what}: y[{i / Math.Max(rows, 1)}, {i % Math.Max(rows, 1)}] = {y[i]}, expected {expected[i]} (tolerance {tolerance}).");
        }
    }
}
