using Sparrow.Tensors.Kernels;
using Sparrow.Tensors.Sparse;
using static Sparrow.Tensors.Tests.Sparse.NMAndBitmaskReference;

namespace Sparrow.Tensors.Tests.Sparse;

/// <summary>
/// The panel kernel's two ways of sharing X between threads (each thread packs a small X itself; a large X is packed
/// once by all), over several panels so that threads claim different ones. The kernel table tests cover the shapes.
/// </summary>
public class NMPanelMatrixTests
{
    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    public void Small_X_packed_per_thread_matches_the_reference(int n, int groupLength)
    {
        var random = new Random(11 + n);
        foreach (var (rows, columns) in new[] { (100, 64), (40, 32), (129, 24) })
        {
            var dense = RandomNM(random, rows, columns, n, groupLength);
            var matrix = NMPanelMatrix.FromDense(dense, rows, columns, n, groupLength);
            foreach (var m in RowCounts)
                foreach (var threads in new[] { 1, 2 })
                {
                    CsrKernelSupport.ThreadsForSmallWorkInTests = threads > 1;
                    try
                    {
                        Check(dense, rows, columns, m, m % 2 == 0, ActivationsToTest[m % 3], m * 7 + threads,
                            (x, mm, y, b, a) => matrix.Multiply(x, mm, y, b, a, threads),
                            $"{n}:{groupLength} {rows}x{columns} m={m} threads={threads}");
                    }
                    finally
                    {
                        CsrKernelSupport.ThreadsForSmallWorkInTests = false;
                    }
                }
        }
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    public void Large_X_packed_once_matches_the_reference(int n, int groupLength)
    {
        // 260 x 512 inputs: more than the 64 K elements a thread packs for itself, and 17 blocks of 16 rows.
        var random = new Random(23 + n);
        var dense = RandomNM(random, 70, 512, n, groupLength);
        var matrix = NMPanelMatrix.FromDense(dense, 70, 512, n, groupLength);
        foreach (var threads in new[] { 1, 2 })
            Check(dense, 70, 512, 260, true, FusedActivation.Gelu, threads,
                (x, mm, y, b, a) => matrix.Multiply(x, mm, y, b, a, threads), $"{n}:{groupLength} m=260 threads={threads}");
    }
}
