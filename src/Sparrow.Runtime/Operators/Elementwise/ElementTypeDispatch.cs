using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Elementwise;

/// <summary>Work written once for any element type; <see cref="ElementTypeDispatch"/> picks the type argument of <c>Invoke</c> at run time.</summary>
internal interface ITypedFunction
{
    Tensor Invoke<T>() where T : unmanaged;
}

internal static class ElementTypeDispatch
{
    /// <summary>Calls <paramref name="function"/> with the CLR type of <paramref name="type"/>.</summary>
    public static Tensor Invoke<TFunction>(DataType type, TFunction function) where TFunction : ITypedFunction => type switch
    {
        DataType.Float32 => function.Invoke<float>(),
        DataType.Float64 => function.Invoke<double>(),
        DataType.Float16 => function.Invoke<Half>(),
        DataType.Int64 => function.Invoke<long>(),
        DataType.Int32 => function.Invoke<int>(),
        DataType.Int16 => function.Invoke<short>(),
        DataType.Int8 => function.Invoke<sbyte>(),
        DataType.UInt64 => function.Invoke<ulong>(),
        DataType.UInt32 => function.Invoke<uint>(),
        DataType.UInt16 => function.Invoke<ushort>(),
        DataType.UInt8 => function.Invoke<byte>(),
        DataType.Bool => function.Invoke<bool>(),
        _ => throw new NotSupportedException($"element type {DataTypes.Name(type)} is not supported."),
    };
}
