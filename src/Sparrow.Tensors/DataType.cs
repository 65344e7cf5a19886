namespace Sparrow.Tensors;

/// <summary>Element types, numbered as ONNX numbers them so that conversion is a cast.</summary>
public enum DataType
{
    /// <summary>No element type (ONNX UNDEFINED); never held by a tensor.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float (<see cref="float"/>).</summary>
    Float32 = 1,
    /// <summary>8-bit unsigned integer (<see cref="byte"/>).</summary>
    UInt8 = 2,
    /// <summary>8-bit signed integer (<see cref="sbyte"/>).</summary>
    Int8 = 3,
    /// <summary>16-bit unsigned integer (<see cref="ushort"/>).</summary>
    UInt16 = 4,
    /// <summary>16-bit signed integer (<see cref="short"/>).</summary>
    Int16 = 5,
    /// <summary>32-bit signed integer (<see cref="int"/>).</summary>
    Int32 = 6,
    /// <summary>64-bit signed integer (<see cref="long"/>).</summary>
    Int64 = 7,
    /// <summary>Text; ONNX has it, Sparrow's tensors do not hold it.</summary>
    String = 8,
    /// <summary>Boolean, one byte per element (<see cref="bool"/>).</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float (<see cref="Half"/>).</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float (<see cref="double"/>).</summary>
    Float64 = 11,
    /// <summary>32-bit unsigned integer (<see cref="uint"/>).</summary>
    UInt32 = 12,
    /// <summary>64-bit unsigned integer (<see cref="ulong"/>).</summary>
    UInt64 = 13,
}

/// <summary>Facts about <see cref="DataType"/> values: CLR type, size, name.</summary>
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

    /// <summary>Whether Sparrow's tensors can hold this element type (it has a fixed size).</summary>
    public static bool IsSupported(DataType type) => SizeOf(type) > 0;

    /// <summary>The ONNX-style lower-case name ("float32", "int64", ...), for messages and reports.</summary>
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
