using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Sparrow.Tensors;

namespace Sparrow.Cli.Execution;

/// <summary>
/// NumPy's .npy files (format versions 1 to 3): little-endian float32, float64, int64, int32, uint8 and bool
/// arrays in C order. Enough to feed chosen inputs to <c>sparrow verify</c>.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Reads an array; errors name the file and what is wrong with it.</summary>
    public static Tensor Read(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"{path}: file not found.");
        var bytes = File.ReadAllBytes(path);
        try
        {
            return Parse(bytes);
        }
        catch (FormatException e)
        {
            throw new UsageException($"{path}: not a .npy file Sparrow can read: {e.Message}");
        }
    }

    public static Tensor Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic)) throw new FormatException("it does not start with the .npy magic bytes.");
        int major = bytes[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
                headerStart = 10;
                break;
            case 2 or 3:
                if (bytes.Length < 12) throw new FormatException("the header is truncated.");
                var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                if (length > int.MaxValue) throw new FormatException("the header is too long.");
                headerLength = (int)length;
                headerStart = 12;
                break;
            default:
                throw new FormatException($"format version {major} is not supported (1 to 3 are).");
        }
        if (headerStart + (long)headerLength > bytes.Length) throw new FormatException("the header is truncated.");
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes.Slice(headerStart, headerLength));
        var descr = Field(header, DescrPattern(), "descr");
        var fortran = Field(header, FortranPattern(), "fortran_order");
        var shapeText = Field(header, ShapePattern(), "shape");
        if (fortran == "True") throw new FormatException("the array is in Fortran order; save it in C order (np.ascontiguousarray).");
        var type = descr switch
        {
            "<f4" => DataType.Float32,
            "<f8" => DataType.Float64,
            "<i8" => DataType.Int64,
            "<i4" => DataType.Int32,
            "|u1" or "<u1" => DataType.UInt8,
            "|b1" => DataType.Bool,
            _ => throw new FormatException($"element type '{descr}' is not supported (little-endian float32, float64, int64, int32, uint8 and bool are)."),
        };
        var shape = ParseShape(shapeText);
        var data = bytes[(headerStart + headerLength)..];
        var expected = (long)TensorShape.Product(shape) * DataTypes.SizeOf(type);
        if (data.Length != expected)
            throw new FormatException($"shape {TensorShape.Format(shape)} of {DataTypes.Name(type)} needs {expected} bytes of data, the file has {data.Length}.");
        return Tensor.FromBytes(type, shape, data);
    }

    /// <summary>Writes an array (version 1 header, C order).</summary>
    public static void Write(string path, Tensor tensor)
    {
        var descr = tensor.ElementType switch
        {
            DataType.Float32 => "<f4",
            DataType.Float64 => "<f8",
            DataType.Int64 => "<i8",
            DataType.Int32 => "<i4",
            DataType.UInt8 => "|u1",
            DataType.Bool => "|b1",
            var t => throw new NotSupportedException($"Writing {DataTypes.Name(t)} to .npy is not supported."),
        };
        var dims = tensor.Shape.ToArray();
        var shape = dims.Length == 1 ? $"({dims[0]},)" : "(" + string.Join(", ", dims) + ")";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        // The data starts at a multiple of 64 bytes; the header ends with a newline.
        var total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write(Magic);
        stream.Write(new byte[] { 1, 0 });
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(tensor.AsBytes());
    }

    private static string Field(string header, Regex pattern, string name)
    {
        var m = pattern.Match(header);
        if (!m.Success) throw new FormatException($"the header has no '{name}'.");
        return m.Groups[1].Value;
    }

    private static int[] ParseShape(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i].TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new FormatException($"shape ({text}) has a dimension that is not a size.");
        try
        {
            TensorShape.Product(shape);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message);
        }
        return shape;
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]*)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
