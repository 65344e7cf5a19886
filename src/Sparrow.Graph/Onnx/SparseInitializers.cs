using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Sparrow.Graph.Onnx.Proto;
using Sparrow.Tensors;

namespace Sparrow.Graph.Onnx;

/// <summary>
/// The compact form of a pruned model: standard ONNX sparse initializers (<c>GraphProto.sparse_initializer</c>).
/// Each holds <c>values</c> (1-D, [NNZ], the stored elements in ascending position order), <c>indices</c> (1-D,
/// [NNZ], each stored element's linear row-major position) and <c>dims</c> (the dense shape). Sparrow writes the
/// indices in the narrowest signed integer type that holds the largest position (int8, int16 or int32; int64 only
/// past 2^31 elements), so a float32 weight costs 5, 6 or 8 bytes per non-zero instead of 4 bytes per element:
/// smaller below 80%, 67% or 50% density. The ONNX checker (<c>onnx.checker</c>) asks for int64 indices and so
/// refuses these files, though the layout is the standard's; <c>sparrow compact --dense</c> writes the ordinary form
/// for tools that check.
/// <para>
/// The "mask" of a sparse initializer is the set of positions it stores. Without an explicit mask the exporter
/// stores every element whose bit pattern is not all zeros (so -0.0 is kept, and the values come back bit for
/// bit); with one (<see cref="OnnxSaveOptions.Masks"/>) it stores exactly the mask's positions, zeros included.
/// On load the importer rebuilds an ordinary dense tensor (zeros where nothing is stored) and
/// <see cref="OnnxImporter.LoadStoredMasks(string, OnnxLoadOptions?)"/> gives the stored positions back.
/// Reading also accepts the [NNZ, rank] coordinate form of the ONNX standard, and checks everything: index types,
/// shapes, counts, ranges, duplicates and order (ONNX requires ascending indices).
/// </para>
/// </summary>
internal static class SparseInitializers
{
    /// <summary>Element types the exporter may write sparse: the floating-point ones, whose weights get pruned.</summary>
    public static bool CanEncode(DataType type) => type is DataType.Float32 or DataType.Float16 or DataType.Float64;

    /// <summary>The narrowest index type that holds every linear position of a tensor of <paramref name="count"/> elements.</summary>
    public static DataType IndexTypeFor(long count) => count switch
    {
        <= sbyte.MaxValue + 1L => DataType.Int8,
        <= short.MaxValue + 1L => DataType.Int16,
        <= int.MaxValue + 1L => DataType.Int32,
        _ => DataType.Int64,
    };

    /// <summary>Bytes the sparse form of a tensor of this type and size takes (values and indices, without protobuf framing).</summary>
    public static long SparseBytes(DataType type, long count, long nonZeros) =>
        nonZeros * (DataTypes.SizeOf(type) + DataTypes.SizeOf(IndexTypeFor(count)));

    /// <summary>
    /// The sparse form of <paramref name="tensor"/>, or null when it is not smaller than the dense one (or the type or
    /// rank does not qualify). With a <paramref name="mask"/> the sparse form is always returned.
    /// </summary>
    internal static SparseTensorProto? TryEncode(Tensor tensor, string name, bool[]? mask)
    {
        var type = tensor.ElementType;
        if (!CanEncode(type) || tensor.Rank == 0)
        {
            if (mask is not null)
                throw new ArgumentException($"Initializer '{name}' has a mask, but only floating-point tensors of rank 1 or more can be written sparse (it is {DataTypes.Name(type)} {TensorShape.Format(tensor.Shape)}).");
            return null;
        }
        var size = DataTypes.SizeOf(type);
        var bytes = tensor.AsBytes();
        var count = tensor.Length;
        if (mask is not null && mask.Length != count)
            throw new ArgumentException($"The mask of initializer '{name}' has {mask.Length} flags, but the tensor has {count} elements.");

        var nonZero = NonZeroFlags(bytes, size, count);
        var stored = 0;
        for (var i = 0; i < count; i++)
        {
            if (mask is null)
            {
                if (nonZero[i]) stored++;
            }
            else if (mask[i]) stored++;
            else if (nonZero[i])
                throw new ArgumentException($"Initializer '{name}' has a non-zero value at position {i}, which its mask prunes; apply the mask first.");
        }
        var indexType = IndexTypeFor(count);
        var indexSize = DataTypes.SizeOf(indexType);
        if (mask is null && SparseBytes(type, count, stored) >= (long)count * size) return null;

        var values = new byte[(long)stored * size];
        var indices = new byte[(long)stored * indexSize];
        var k = 0;
        for (var i = 0; i < count; i++)
        {
            if (!(mask is null ? nonZero[i] : mask[i])) continue;
            bytes.Slice(i * size, size).CopyTo(values.AsSpan(k * size, size));
            var at = indices.AsSpan(k * indexSize, indexSize);
            switch (indexType)
            {
                case DataType.Int8: at[0] = (byte)i; break;
                case DataType.Int16: BinaryPrimitives.WriteInt16LittleEndian(at, (short)i); break;
                case DataType.Int32: BinaryPrimitives.WriteInt32LittleEndian(at, i); break;
                default: BinaryPrimitives.WriteInt64LittleEndian(at, i); break;
            }
            k++;
        }
        var proto = new SparseTensorProto
        {
            Values = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(values) },
            Indices = new TensorProto { DataType = (int)indexType, RawData = ByteString.CopyFrom(indices) },
        };
        proto.Values.Dims.Add(stored);
        proto.Indices.Dims.Add(stored);
        foreach (var d in tensor.Shape) proto.Dims.Add(d);
        return proto;
    }

    /// <summary>One flag per element: true where its bit pattern is not all zeros.</summary>
    private static bool[] NonZeroFlags(ReadOnlySpan<byte> bytes, int size, int count)
    {
        var flags = new bool[count];
        switch (size)
        {
            case 2:
                var halves = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (var i = 0; i < count; i++) flags[i] = halves[i] != 0;
                break;
            case 4:
                var words = MemoryMarshal.Cast<byte, uint>(bytes);
                for (var i = 0; i < count; i++) flags[i] = words[i] != 0;
                break;
            default:
                var longs = MemoryMarshal.Cast<byte, ulong>(bytes);
                for (var i = 0; i < count; i++) flags[i] = longs[i] != 0;
                break;
        }
        return flags;
    }

    /// <summary>
    /// Checks <paramref name="indices"/> against the dense <paramref name="shape"/> and returns each stored element's
    /// linear position (strictly ascending). <paramref name="fail"/> builds the exception for a message.
    /// </summary>
    internal static int[] LinearPositions(Tensor indices, int[] shape, long count, int nonZeros, Func<string, Exception> fail)
    {
        if (indices.ElementType is not (DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64))
            throw fail($"its indices are {DataTypes.Name(indices.ElementType)}; they must be int8, int16, int32 or int64.");
        var coordinates = indices.Rank == 2;
        if (indices.Rank is not (1 or 2) || indices.Shape[0] != nonZeros || coordinates && indices.Shape[1] != shape.Length)
            throw fail($"its indices have shape {TensorShape.Format(indices.Shape)}, but {nonZeros} values of a rank-{shape.Length} tensor need [{nonZeros}] (linear) or [{nonZeros},{shape.Length}] (coordinates).");
        if (nonZeros > count)
            throw fail($"it stores {nonZeros} values, more than the {count} elements of its shape {TensorShape.Format(shape)}.");

        var positions = new int[nonZeros];
        var previous = -1L;
        for (var k = 0; k < nonZeros; k++)
        {
            long position;
            if (!coordinates)
            {
                position = IndexAt(indices, k);
                if (position < 0 || position >= count)
                    throw fail($"index {k} is {position}, outside [0, {count}) for shape {TensorShape.Format(shape)}.");
            }
            else
            {
                position = 0;
                for (var d = 0; d < shape.Length; d++)
                {
                    var c = IndexAt(indices, (long)k * shape.Length + d);
                    if (c < 0 || c >= shape[d])
                        throw fail($"index {k} has coordinate {c} on axis {d}, outside [0, {shape[d]}) for shape {TensorShape.Format(shape)}.");
                    position = position * shape[d] + c;
                }
            }
            if (position == previous)
                throw fail($"position {position} is stored twice (indices {k - 1} and {k}).");
            if (position < previous)
                throw fail($"its indices are not in ascending order as ONNX requires (index {k} is position {position}, after {previous}).");
            positions[k] = (int)position;
            previous = position;
        }
        return positions;
    }

    private static long IndexAt(Tensor indices, long k) => indices.ElementType switch
    {
        DataType.Int8 => indices.As<sbyte>().Span[(int)k],
        DataType.Int16 => indices.As<short>().Span[(int)k],
        DataType.Int32 => indices.As<int>().Span[(int)k],
        _ => indices.As<long>().Span[(int)k],
    };

    /// <summary>The dense tensor: zeros everywhere, <paramref name="values"/> at <paramref name="positions"/>.</summary>
    internal static Tensor Expand(Tensor values, int[] shape, long count, int[] positions)
    {
        var size = DataTypes.SizeOf(values.ElementType);
        var source = values.AsBytes();
        var dense = new byte[count * size];
        for (var k = 0; k < positions.Length; k++)
            source.Slice(k * size, size).CopyTo(dense.AsSpan(positions[k] * size, size));
        return Tensor.FromBytes(values.ElementType, shape, dense);
    }
}
