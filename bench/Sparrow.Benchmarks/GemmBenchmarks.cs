using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Sparrow.Benchmarks;

/// <summary>GEMM at MiniLM's shapes, with a GFLOP/s column (dense FLOPs / mean time).</summary>
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private GemmRun? _run;

    public static IEnumerable<GemmShapes.Shape> Shapes => GemmShapes.MiniLm;

    [ParamsSource(nameof(Shapes))]
    public GemmShapes.Shape Shape { get; set; } = GemmShapes.MiniLm[0];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() => _run = new GemmRun(Shape, Threads);

    [GlobalCleanup]
    public void Cleanup() => _run?.Dispose();

    [Benchmark]
    public void Multiply() => _run!.Execute();

    private sealed class GflopsConfig : ManualConfig
    {
        public GflopsConfig() => AddColumn(new GflopsColumn());
    }

    private sealed class GflopsColumn : IColumn
    {
        public string Id => "GFLOPS";
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Dense FLOPs per second (2*M*N*K*batch / mean time)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is null) return "-";
            var shape = (GemmShapes.Shape)benchmarkCase.Parameters["Shape"];
            return (shape.Flops / report.ResultStatistics.Mean).ToString("F1");
        }

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
    }
}
