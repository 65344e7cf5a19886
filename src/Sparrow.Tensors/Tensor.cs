namespace Sparrow.Tensors;

/// <summary>
/// A dense, contiguous, row-major tensor of any supported element type. Typed access goes through
/// <see cref="Tensor{T}"/>; this base carries what every operator needs without knowing the type.
/// </summary>
public abstract class Tensor : IDisposable
{
    private readonly int[] _shape;

    protected Tensor(DataType elementType, int[] shape)
    {
        ElementType = elementType;
        _shape = shape;
        Length = TensorShape.Product(shape);
    }

    public DataType ElementType { get; }

    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The shape as an array the caller must not change; for code that stores shapes.</summary>
    internal int[] ShapeArray => _shape;

    public int Rank => _shape.Length;

    public int Length { get; }

    public int[] CopyShape() => (int[])_shape.Clone();

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

    protected abstract void CopyFromBytes(ReadOnlySpan<byte> bytes);

    public abstract void Dispose();

    public override string ToString() => $"{DataTypes.Name(ElementType)}{TensorShape.Format(Shape)}";
}
