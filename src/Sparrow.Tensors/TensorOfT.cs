using System.Runtime.InteropServices;

namespace Sparrow.Tensors;

/// <summary>
/// A dense tensor of <typeparamref name="T"/>. Either rents its memory from the shared pool (returned on
/// <see cref="Dispose"/>) or wraps the caller's memory without copying.
/// </summary>
public sealed class Tensor<T> : Tensor where T : unmanaged
{
    private readonly TensorBuffer<T> _buffer;
    private int _disposed;

    private Tensor(TensorBuffer<T> buffer, int[] shape) : base(DataTypes.Of<T>(), shape)
    {
        _buffer = buffer;
        if (buffer.Memory.Length < Length)
            throw new ArgumentException($"Memory of {buffer.Memory.Length} elements is too small for shape {TensorShape.Format(shape)}.");
    }

    /// <summary>A zeroed tensor with pooled memory.</summary>
    public static Tensor<T> Allocate(ReadOnlySpan<int> shape) => Allocate(shape, clear: true);

    /// <summary>A tensor with pooled memory; <paramref name="clear"/> false leaves old contents for callers that overwrite every element.</summary>
    public static Tensor<T> Allocate(ReadOnlySpan<int> shape, bool clear)
    {
        var s = shape.ToArray();
        return new Tensor<T>(TensorBuffer<T>.Rent(TensorShape.Product(s), clear), s);
    }

    /// <summary>Wraps the caller's memory without copying; the caller keeps ownership.</summary>
    public static Tensor<T> Wrap(Memory<T> memory, ReadOnlySpan<int> shape) =>
        new(TensorBuffer<T>.Wrap(memory), shape.ToArray());

    /// <summary>Wraps <paramref name="data"/> (no copy) as a tensor of <paramref name="shape"/>.</summary>
    public static Tensor<T> FromArray(T[] data, params int[] shape) => Wrap(data, shape);

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor<T> Scalar(T value) => Wrap(new[] { value }, ReadOnlySpan<int>.Empty);

    /// <summary>The elements, row-major. Throws <see cref="ObjectDisposedException"/> after <see cref="Dispose"/>.</summary>
    public Span<T> Span => Memory.Span;

    /// <summary>The elements as <see cref="Memory{T}"/>, row-major, exactly <see cref="Tensor.Length"/> long.</summary>
    public Memory<T> Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            return _buffer.Memory[..Length];
        }
    }

    /// <summary>A copy of the elements in a new array.</summary>
    public T[] ToArray() => Span.ToArray();

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The new shape holds another number of elements.</exception>
    public override Tensor<T> Reshape(ReadOnlySpan<int> shape)
    {
        var s = shape.ToArray();
        if (TensorShape.Product(s) != Length)
            throw new ArgumentException($"Cannot reshape {TensorShape.Format(Shape)} ({Length} elements) to {TensorShape.Format(s)}.");
        _buffer.AddReference();
        return new Tensor<T>(_buffer, s);
    }

    /// <inheritdoc/>
    public override Tensor<T> Clone()
    {
        var copy = Allocate(Shape, clear: false);
        Span.CopyTo(copy.Span);
        return copy;
    }

    /// <inheritdoc/>
    public override Tensor AllocateLike(ReadOnlySpan<int> shape) => Allocate(shape);

    /// <inheritdoc/>
    public override ReadOnlySpan<byte> AsBytes() => MemoryMarshal.AsBytes<T>(Span);

    /// <inheritdoc/>
    protected override void CopyFromBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(MemoryMarshal.AsBytes(Span));

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _buffer.Release();
    }
}
