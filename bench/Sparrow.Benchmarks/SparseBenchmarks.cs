using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Sparrow.Tensors.Sparse;

namespace Sparrow.Benchmarks;

/// <summary>
/// Every entry of <see cref="SparseKernelTable.All"/> (the table the tests check) at MiniLM's and LLM-like weight
/// shapes, row counts and sparsity levels, next to our dense GEMM, with effective GFLOP/s (dense FLOPs / mean
/// time) and the weight's bytes. The full grid takes hours: narrow it with the environment variables
/// SPARROW_BENCH_KERNELS ("CSR,Bitmask"), SPARROW_BENCH_SHAPES ("384x1536"), SPARROW_BENCH_ROWS ("1,32") and
/// SPARROW_BENCH_SPARSITY ("90%,2:4"); `sparrow bench kernels` gives a quick table of the same.
/// </summary>
[Config(typeof(SparseConfig))]
public class SparseBenchmarks
{
    private SparseRun? _run;

    public static IEnumerable<string> Shapes => FromEnvironment("SPARROW_BENCH_SHAPES", ["384x384", "1536x384", "384x1536", "4096x4096", "11008x4096"]);

    public static IEnumerable<int> RowCounts => FromEnvironment("SPARROW_BENCH_ROWS", ["1", "8", "32", "128"]).Select(r => int.Parse(r, CultureInfo.InvariantCulture));

    /// <summary>The dense baseline once, then each table entry at each sparsity level its pattern can hold.</summary>
    public static IEnumerable<SparseCase> Cases
    {
        get
        {
            var names = FromEnvironment("SPARROW_BENCH_KERNELS", SparseKernelTable.All.Select(e => e.Name).ToArray());
            var levels = FromEnvironment("SPARROW_BENCH_SPARSITY", ["50%", "70%", "80%", "90%", "95%", "2:4"]);
            yield return new SparseCase(SparseCase.Dense, "0%");
            foreach (var entry in SparseKernelTable.All.Where(e => names.Contains(e.Name, StringComparer.OrdinalIgnoreCase)))
                foreach (var level in levels)
                    if (SparseRun.Accepts(entry, level))
                        yield return new SparseCase(entry.Name, level);
        }
    }

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "384x384";

    [ParamsSource(nameof(RowCounts))]
    public int Rows { get; set; } = 1;

    [ParamsSource(nameof(Cases))]
    public SparseCase Case { get; set; } = new(SparseCase.Dense, "0%");

    /// <summary>All cores, as `sparrow bench kernels` uses by default.</summary>
    public int Threads => Environment.ProcessorCount;

    [GlobalSetup]
    public void Setup()
    {
        var (o, i) = ParseShape(Shape);
        _run = new SparseRun(o, i, Rows, Case, Threads);
    }

    [Benchmark]
    public void Multiply() => _run!.Execute();

    internal static (int Out, int In) ParseShape(string shape)
    {
        var parts = shape.Split('x');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static string[] FromEnvironment(string variable, string[] fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : fallback;

    private sealed class SparseConfig : ManualConfig
    {
        public SparseConfig()
        {
            AddColumn(new EffectiveGflopsColumn());
            AddColumn(new WeightBytesColumn());
        }
    }

    private abstract class CustomColumn : IColumn
    {
        public abstract string Id { get; }
        public abstract string ColumnName { get; }
        public abstract string Legend { get; }
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public abstract string GetValue(Summary summary, BenchmarkCase benchmarkCase);
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;

        protected static (int Out, int In, int Rows) Dimensions(BenchmarkCase benchmarkCase)
        {
            var (o, i) = ParseShape((string)benchmarkCase.Parameters["Shape"]);
            return (o, i, (int)benchmarkCase.Parameters["Rows"]);
        }
    }

    private sealed class EffectiveGflopsColumn : CustomColumn
    {
        public override string Id => "EffectiveGFLOPS";
        public override string ColumnName => "GFLOP/s";
        public override string Legend => "Effective GFLOP/s: dense FLOPs (2*rows*out*in) / mean time";

        public override string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            if (summary[benchmarkCase]?.ResultStatistics is not { } stats) return "-";
            var (o, i, rows) = Dimensions(benchmarkCase);
            return (2.0 * rows * o * i / stats.Mean).ToString("F1", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Rebuilds the case's matrix to read its size: the column is computed once per report, not per run.</summary>
    private sealed class WeightBytesColumn : CustomColumn
    {
        public override string Id => "WeightMB";
        public override string ColumnName => "Weight MB";
        public override string Legend => "Bytes of the weight as the kernel reads it (format values, indices, metadata), in MB";

        public override string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var (o, i, _) = Dimensions(benchmarkCase);
            var run = new SparseRun(o, i, 1, (SparseCase)benchmarkCase.Parameters["Case"], 1);
            return (run.WeightBytes / 1e6).ToString("F3", CultureInfo.InvariantCulture);
        }
    }
}
