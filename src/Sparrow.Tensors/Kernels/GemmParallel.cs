namespace Sparrow.Tensors.Kernels;

/// <summary>
/// Runs work items on up to a given number of threads, the caller included; inline when one suffices.
/// Items are handed out dynamically (Parallel.For), so a thread that the OS delays only takes fewer of them.
/// A pool of dedicated spinning workers was tried and lost on a shared 2-core machine: spinning threads
/// lose their turn to the scheduler exactly when work arrives.
/// </summary>
internal static class GemmParallel
{
    public static void For(int count, int threads, Action<int> body)
    {
        if (threads <= 1 || count <= 1)
        {
            for (var i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(threads, count) }, body);
    }
}
