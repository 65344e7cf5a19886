namespace Sparrow.Tensors;

/// <summary>Element types, numbered as ONNX numbers them so that conversion is a cast.</summary>
public enum DataType
{
    Undefined = 0,
    Float32 = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Float64 = 11,
    UInt32 = 12,
    UInt64 = 13,
}

public static class DataTypes
{
    /// <summary>The element type that stands for the CLR type <typeparamref name="T"/>.</summary>
    public static DataType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DataType.Float32;
        if (typeof(T) == typeof(long)) return DataType.Int64;
        if (typeof(T) == typeof(int)) return DataType.Int32;
        if (typeof(T) == typeof(bool)) return DataType.Bool;
        if (typeof(T) == typeof(double)) return DataType.Float64;
        if (typeof(T) == typeof(byte)) return DataType.UInt8;
        if (typeof(T) == typeof(sbyte)) return DataType.Int8;
        if (typeof(T) == typeof(short)) return DataType.Int16;
        if (typeof(T) == typeof(ushort)) return DataType.UInt16;
        if (typeof(T) == typeof(uint)) return DataType.UInt32;
        if (typeof(T) == typeof(ulong)) return DataType.UInt64;
        if (typeof(T) == typeof(Half)) return DataType.Float16;
        throw new NotSupportedException($"No tensor element type for {typeof(T).Name}.");
    }

    /// <summary>Bytes per element; 0 for types without a fixed size (strings).</summary>
    public static int SizeOf(DataType type) => type switch
    {
        DataType.Float32 or DataType.Int32 or DataType.UInt32 => 4,
        DataType.Int64 or DataType.UInt64 or DataType.Float64 => 8,
        DataType.Int16 or DataType.UInt16 or DataType.Float16 => 2,
        DataType.UInt8 or DataType.Int8 or DataType.Bool => 1,
        _ => 0,
    };

    public static bool IsSupported(DataType type) => SizeOf(type) > 0;

    public static string Name(DataType type) => type switch
    {
        DataType.Float32 => "float32",
        DataType.Float64 => "float64",
        DataType.Float16 => "float16",
        DataType.Int64 => "int64",
        DataType.Int32 => "int32",
        DataType.Int16 => "int16",
        DataType.Int8 => "int8",
        DataType.UInt8 => "uint8",
        DataType.UInt16 => "uint16",
        DataType.UInt32 => "uint32",
        DataType.UInt64 => "uint64",
        DataType.Bool => "bool",
        DataType.String => "string",
        _ => $"type {(int)type}",
    };
}
