using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators.Shape;

/// <summary>Splits independent rows (softmax rows, normalised rows, pooled planes) over the run's threads.</summary>
internal static class ParallelRows
{
    /// <summary>Below this many elements of work per thread, starting threads costs more than it saves.</summary>
    public const long MinWorkPerThread = 1 << 15;

    /// <param name="body">Called with a half-open range of rows [start, end).</param>
    public static void For(int rows, long workPerRow, int threads, Action<int, int> body)
    {
        var total = rows * Math.Max(1, workPerRow);
        var chunks = (int)Math.Min(Math.Min(threads, rows), Math.Max(1, total / MinWorkPerThread));
        if (chunks <= 1)
        {
            body(0, rows);
            return;
        }
        GemmParallel.For(chunks, chunks, c =>
        {
            var start = (int)((long)rows * c / chunks);
            var end = (int)((long)rows * (c + 1) / chunks);
            if (end > start) body(start, end);
        });
    }
}
