using System.Text.Json;
using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Serving.Http;

/// <summary>
/// Tensors as JSON: <c>{"shape": [2, 3], "data": [...], "type": "float32"}</c>, <c>data</c> flat in row-major order,
/// <c>type</c> optional (the model input's type). Reading checks names, types and shapes against the model and
/// says exactly what is wrong.
/// </summary>
internal static class JsonTensors
{
    private static readonly Dictionary<string, DataType> TypesByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["float32"] = DataType.Float32, ["float"] = DataType.Float32,
        ["float64"] = DataType.Float64, ["double"] = DataType.Float64,
        ["int64"] = DataType.Int64, ["int32"] = DataType.Int32,
        ["bool"] = DataType.Bool,
    };

    public static string Name(DataType type) => type switch
    {
        DataType.Float32 => "float32",
        DataType.Float64 => "float64",
        DataType.Int64 => "int64",
        DataType.Int32 => "int32",
        DataType.Bool => "bool",
        _ => DataTypes.Name(type),
    };

    /// <summary>Reads <c>inputs</c> and checks them against <paramref name="expected"/>: every required input present, no unknown name.</summary>
    public static Dictionary<string, Tensor> ReadInputs(JsonElement inputs, IReadOnlyList<ValueInfo> expected)
    {
        if (inputs.ValueKind != JsonValueKind.Object)
            throw new RequestException(400, "'inputs' must be an object that maps each input name to {\"shape\": [...], \"data\": [...]}.");
        var byName = expected.ToDictionary(v => v.Name);
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var property in inputs.EnumerateObject())
            {
                if (!byName.TryGetValue(property.Name, out var info))
                    throw new RequestException(400, $"The model has no input '{property.Name}'; its inputs are: {string.Join(", ", expected.Select(Describe))}.");
                if (result.ContainsKey(property.Name)) throw new RequestException(400, $"Input '{property.Name}' is given twice.");
                result[property.Name] = ReadTensor(property.Name, property.Value, info);
            }
            var missing = expected.Where(v => !result.ContainsKey(v.Name)).ToArray();
            if (missing.Length > 0)
                throw new RequestException(400, $"Missing input(s): {string.Join(", ", missing.Select(Describe))}.");
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    private static string Describe(ValueInfo info) =>
        $"{info.Name} ({Name(info.ElementType)} [{(info.Shape is null ? "any" : string.Join(", ", info.Shape))}])";

    private static Tensor ReadTensor(string name, JsonElement json, ValueInfo info)
    {
        if (json.ValueKind != JsonValueKind.Object) throw new RequestException(400, $"Input '{name}' must be an object {{\"shape\": [...], \"data\": [...]}}.");
        if (!json.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
            throw new RequestException(400, $"Input '{name}' needs 'shape', an array of sizes.");
        if (!json.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw new RequestException(400, $"Input '{name}' needs 'data', a flat array of numbers in row-major order.");
        var shape = new int[shapeJson.GetArrayLength()];
        var k = 0;
        foreach (var size in shapeJson.EnumerateArray())
        {
            if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt32(out var s) || s < 0)
                throw new RequestException(400, $"Input '{name}': every size in 'shape' must be a whole number of 0 or more.");
            shape[k++] = s;
        }
        var type = info.ElementType;
        if (json.TryGetProperty("type", out var typeJson))
        {
            if (typeJson.ValueKind != JsonValueKind.String || !TypesByName.TryGetValue(typeJson.GetString()!, out var given))
                throw new RequestException(400, $"Input '{name}': unknown type {typeJson}; use one of float32, float64, int64, int32, bool.");
            if (given != type) throw new RequestException(400, $"Input '{name}' is {Name(type)}, not {Name(given)}.");
        }
        if (info.Shape is { } dims)
        {
            if (dims.Count != shape.Length)
                throw new RequestException(400, $"Input '{name}' has rank {dims.Count} ([{string.Join(", ", dims)}]), got shape [{string.Join(", ", shape)}].");
            for (var d = 0; d < dims.Count; d++)
                if (dims[d].Value is { } fixedSize && fixedSize != shape[d])
                    throw new RequestException(400, $"Input '{name}' must have size {fixedSize} in dimension {d} ([{string.Join(", ", dims)}]), got shape [{string.Join(", ", shape)}].");
        }
        long count = 1;
        foreach (var s in shape) count *= s;
        if (data.GetArrayLength() != count)
            throw new RequestException(400, $"Input '{name}': shape [{string.Join(", ", shape)}] holds {count} values, 'data' has {data.GetArrayLength()} (give it flat, in row-major order).");
        return type switch
        {
            DataType.Float32 => Fill<float>(name, data, shape, e => e.TryGetSingle(out var v) ? v : null),
            DataType.Float64 => Fill<double>(name, data, shape, e => e.TryGetDouble(out var v) ? v : null),
            DataType.Int64 => Fill<long>(name, data, shape, e => e.TryGetInt64(out var v) ? v : null),
            DataType.Int32 => Fill<int>(name, data, shape, e => e.TryGetInt32(out var v) ? v : null),
            DataType.Bool => Fill<bool>(name, data, shape, e => e.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null }),
            _ => throw new RequestException(400, $"Input '{name}' is {Name(type)}, which /v1/infer does not take."),
        };
    }

    private static Tensor Fill<T>(string name, JsonElement data, int[] shape, Func<JsonElement, T?> read) where T : unmanaged
    {
        var tensor = Tensor<T>.Allocate(shape, clear: false);
        var span = tensor.Span;
        var i = 0;
        foreach (var element in data.EnumerateArray())
        {
            // Numbers for the numeric types, true/false for bool: the readers throw on any other kind.
            var value = (typeof(T) == typeof(bool) ? element.ValueKind is JsonValueKind.True or JsonValueKind.False : element.ValueKind == JsonValueKind.Number)
                ? read(element) : null;
            if (value is null)
            {
                tensor.Dispose();
                throw new RequestException(400, $"Input '{name}': data[{i}] = {element} is not a {Name(DataTypes.Of<T>())} value.");
            }
            span[i++] = value.Value;
        }
        return tensor;
    }

    public static void Write(Utf8JsonWriter writer, Tensor tensor)
    {
        writer.WriteStartObject();
        writer.WriteString("type", Name(tensor.ElementType));
        writer.WriteStartArray("shape");
        foreach (var s in tensor.Shape) writer.WriteNumberValue(s);
        writer.WriteEndArray();
        writer.WriteStartArray("data");
        switch (tensor)
        {
            case Tensor<float> f:
                foreach (var v in f.Span)
                    if (float.IsFinite(v)) writer.WriteNumberValue(v); else writer.WriteNullValue();
                break;
            case Tensor<double> d:
                foreach (var v in d.Span)
                    if (double.IsFinite(v)) writer.WriteNumberValue(v); else writer.WriteNullValue();
                break;
            case Tensor<long> l:
                foreach (var v in l.Span) writer.WriteNumberValue(v);
                break;
            case Tensor<int> n:
                foreach (var v in n.Span) writer.WriteNumberValue(v);
                break;
            case Tensor<bool> b:
                foreach (var v in b.Span) writer.WriteBooleanValue(v);
                break;
            default:
                throw new NotSupportedException($"Output of type {DataTypes.Name(tensor.ElementType)} cannot be written as JSON.");
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
