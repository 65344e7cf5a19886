using System.CommandLine;
using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Cli.Commands;

/// <summary>Options and argument handling that several commands share, so they read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Argument<string?> ModelArgument(string whenOmitted) => new("model")
    {
        Description = $"Path of an .onnx file; {whenOmitted}.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "Threads per operator, for Sparrow and ONNX Runtime alike (default: one per core).",
        DefaultValueFactory = _ => 0,
    };

    public static Option<int> Batch(int fallback) => new("--batch")
    {
        Description = "Batch size: the size of each input's first dynamic dimension.",
        DefaultValueFactory = _ => fallback,
    };

    public static Option<int> Sequence(int fallback) => new("--seq")
    {
        Description = "Sequence length: the size of each input's other dynamic dimensions.",
        DefaultValueFactory = _ => fallback,
    };

    public static Option<int> Seed() => new("--seed")
    {
        Description = "Seed for the generated inputs.",
        DefaultValueFactory = _ => 0,
    };

    public static Option<string> SparseKernel() => new("--sparse-kernel")
    {
        Description = "Kernel for constant MatMul/Gemm/Linear weights: auto (dense or the sparse format that measures fastest here; cached), "
            + "dense, or one format for every weight that fits it: " + string.Join(", ", SessionOptions.SparseKernelNames.Skip(2)) + ".",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>The --sparse-kernel value as SessionOptions takes it; an unknown name lists the known ones.</summary>
    public static string ResolveSparseKernel(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return "auto";
        return SessionOptions.SparseKernelNames.FirstOrDefault(n => string.Equals(n, value.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new UsageException($"--sparse-kernel '{value}' is not a kernel; use one of: {string.Join(", ", SessionOptions.SparseKernelNames)} (quote names with a space).");
    }

    /// <summary>The thread count to use: the option's value, or one per core.</summary>
    public static int ResolveThreads(int threads)
    {
        if (threads < 0) throw new UsageException($"--threads must be 0 (one per core) or more, got {threads}.");
        return threads > 0 ? threads : Environment.ProcessorCount;
    }

    /// <summary>"1,8,32" as sizes, each at least 1.</summary>
    public static int[] ParseSizes(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException($"{option} needs at least one size, e.g. {option} 1,8,32.");
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
                throw new UsageException($"{option}: '{parts[i]}' is not a size of 1 or more.");
        return sizes.Distinct().ToArray();
    }

    /// <summary>Reads --input name=file.npy values; an array whose type differs from the input's declared one is converted when that loses nothing that matters.</summary>
    public static Dictionary<string, Tensor> ReadInputFiles(IEnumerable<string> specs, LoadedModel model)
    {
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var spec in specs)
            {
                var eq = spec.IndexOf('=');
                if (eq <= 0 || eq == spec.Length - 1) throw new UsageException($"--input '{spec}': expected NAME=FILE.npy.");
                var name = spec[..eq];
                var path = spec[(eq + 1)..];
                var info = model.Model.Graph.RequiredInputs.FirstOrDefault(i => i.Name == name)
                    ?? throw new UsageException($"--input {name}: the model has no input '{name}'; its inputs are: {string.Join(", ", model.Model.Graph.RequiredInputs.Select(i => i.Name))}.");
                if (result.ContainsKey(name)) throw new UsageException($"--input {name} is given twice.");
                var tensor = Npy.Read(path);
                result[name] = Convert(tensor, info.ElementType, name, path);
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    private static Tensor Convert(Tensor tensor, DataType wanted, string name, string path)
    {
        if (wanted == DataType.Undefined || tensor.ElementType == wanted) return tensor;
        // NumPy's defaults are float64 and int64; accept those for float32 and int32 inputs and the reverse.
        Tensor? converted = (tensor, wanted) switch
        {
            (Tensor<double> d, DataType.Float32) => Map(d, v => (float)v),
            (Tensor<int> i, DataType.Int64) => Map(i, v => (long)v),
            (Tensor<long> l, DataType.Int32) when l.Span.ToArray().All(v => v is >= int.MinValue and <= int.MaxValue) => Map(l, v => (int)v),
            _ => null,
        };
        tensor.Dispose();
        return converted ?? throw new UsageException(
            $"--input {name}: {path} holds {DataTypes.Name(tensor.ElementType)}, but the input is {DataTypes.Name(wanted)}.");
    }

    private static Tensor<TOut> Map<TIn, TOut>(Tensor<TIn> source, Func<TIn, TOut> map) where TIn : unmanaged where TOut : unmanaged
    {
        var result = Tensor<TOut>.Allocate(source.Shape, clear: false);
        var from = source.Span;
        var to = result.Span;
        for (var i = 0; i < from.Length; i++) to[i] = map(from[i]);
        return result;
    }

    public static string FormatCount(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>22713216 as "22.7M".</summary>
    public static string FormatShort(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
