using System.Buffers;

namespace Sparrow.Tensors;

/// <summary>
/// Memory shared by a tensor and its reshaped views. Pooled arrays go back to the pool when the last
/// tensor that uses them is disposed; wrapped memory belongs to its caller and is never returned.
/// </summary>
internal sealed class TensorBuffer<T> where T : unmanaged
{
    private T[]? _pooled;
    private int _references = 1;

    private TensorBuffer(Memory<T> memory, T[]? pooled)
    {
        Memory = memory;
        _pooled = pooled;
    }

    public Memory<T> Memory { get; private set; }

    public static TensorBuffer<T> Rent(int length, bool clear)
    {
        if (length == 0) return new TensorBuffer<T>(Memory<T>.Empty, null);
        var array = ArrayPool<T>.Shared.Rent(length);
        if (clear) Array.Clear(array, 0, length);
        return new TensorBuffer<T>(array.AsMemory(0, length), array);
    }

    public static TensorBuffer<T> Wrap(Memory<T> memory) => new(memory, null);

    public void AddReference()
    {
        if (Interlocked.Increment(ref _references) <= 1)
            throw new ObjectDisposedException(nameof(Tensor), "The tensor was disposed.");
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        var pooled = Interlocked.Exchange(ref _pooled, null);
        Memory = Memory<T>.Empty;
        if (pooled is not null) ArrayPool<T>.Shared.Return(pooled);
    }
}
