namespace Sparrow.Tensors;

/// <summary>
/// A dense, contiguous, row-major tensor of any supported element type. Typed access goes through
/// <see cref="Tensor{T}"/>; this base carries what every operator needs without knowing the type.
/// </summary>
public abstract class Tensor : IDisposable
{
    private readonly int[] _shape;

    /// <summary>Base for a tensor of <paramref name="elementType"/> with <paramref name="shape"/> (kept, not copied).</summary>
    protected Tensor(DataType elementType, int[] shape)
    {
        ElementType = elementType;
        _shape = shape;
        Length = TensorShape.Product(shape);
    }

    /// <summary>The element type.</summary>
    public DataType ElementType { get; }

    /// <summary>The dimensions, outermost first; empty for a scalar.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The shape as an array the caller must not change; for code that stores shapes.</summary>
    internal int[] ShapeArray => _shape;

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements (the product of the dimensions; 1 for a scalar).</summary>
    public int Length { get; }

    /// <summary>A copy of <see cref="Shape"/> that the caller may keep or change.</summary>
    public int[] CopyShape() => (int[])_shape.Clone();

    /// <summary>This tensor typed as <see cref="Tensor{T}"/>.</summary>
    /// <exception cref="InvalidCastException">It holds another element type; the message names both.</exception>
    public Tensor<T> As<T>() where T : unmanaged =>
        this as Tensor<T> ?? throw new InvalidCastException(
            $"Tensor holds {DataTypes.Name(ElementType)}, not {DataTypes.Name(DataTypes.Of<T>())}.");

    /// <summary>A tensor with a new shape of the same length that shares this one's memory.</summary>
    public abstract Tensor Reshape(ReadOnlySpan<int> shape);

    /// <summary>A copy with its own memory.</summary>
    public abstract Tensor Clone();

    /// <summary>A new tensor of the same element type and the given shape, contents zeroed.</summary>
    public abstract Tensor AllocateLike(ReadOnlySpan<int> shape);

    /// <summary>The elements as raw bytes (little-endian, as ONNX stores them).</summary>
    public abstract ReadOnlySpan<byte> AsBytes();

    /// <summary>Allocates a zeroed tensor of a type chosen at run time.</summary>
    public static Tensor Allocate(DataType type, ReadOnlySpan<int> shape) => type switch
    {
        DataType.Float32 => Tensor<float>.Allocate(shape),
        DataType.Int64 => Tensor<long>.Allocate(shape),
        DataType.Int32 => Tensor<int>.Allocate(shape),
        DataType.Bool => Tensor<bool>.Allocate(shape),
        DataType.Float64 => Tensor<double>.Allocate(shape),
        DataType.UInt8 => Tensor<byte>.Allocate(shape),
        DataType.Int8 => Tensor<sbyte>.Allocate(shape),
        DataType.Int16 => Tensor<short>.Allocate(shape),
        DataType.UInt16 => Tensor<ushort>.Allocate(shape),
        DataType.UInt32 => Tensor<uint>.Allocate(shape),
        DataType.UInt64 => Tensor<ulong>.Allocate(shape),
        DataType.Float16 => Tensor<Half>.Allocate(shape),
        _ => throw new NotSupportedException($"Element type {DataTypes.Name(type)} is not supported."),
    };

    /// <summary>Builds a tensor of a type chosen at run time from little-endian bytes (copied).</summary>
    public static Tensor FromBytes(DataType type, ReadOnlySpan<int> shape, ReadOnlySpan<byte> bytes)
    {
        var t = Allocate(type, shape);
        var expected = (long)t.Length * DataTypes.SizeOf(type);
        if (bytes.Length != expected)
        {
            t.Dispose();
            throw new ArgumentException(
                $"{DataTypes.Name(type)} tensor of shape {TensorShape.Format(shape)} needs {expected} bytes, got {bytes.Length}.");
        }
        t.CopyFromBytes(bytes);
        return t;
    }

    /// <summary>Fills this tensor's elements from little-endian bytes of exactly its size.</summary>
    protected abstract void CopyFromBytes(ReadOnlySpan<byte> bytes);

    /// <summary>Returns pooled memory to the pool; the tensor must not be used afterwards. Views made by <see cref="Reshape"/> keep shared memory alive until they are disposed too.</summary>
    public abstract void Dispose();

    /// <summary>The element type and shape, e.g. "float32[1,128,384]".</summary>
    public override string ToString() => $"{DataTypes.Name(ElementType)}{TensorShape.Format(Shape)}";
}
