using System.Diagnostics;
using System.Runtime.Intrinsics;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Benchmarks;

/// <summary>
/// `quick`: GFLOP/s of each MiniLM shape at 1 and 2 threads in a few seconds, without BenchmarkDotNet's long
/// runs. Warms up first (the JIT tiers up), then times rounds and reports the median and the best; at one
/// thread also the best by the thread's CPU time, which other processes on a busy machine do not inflate.
/// Options: a word filters the shapes by name; --ort adds ONNX Runtime's MatMul on the same shape;
/// --naive adds a plain loop for the batched shapes.
/// </summary>
public static class QuickGemm
{
    public static void Run(string[] args)
    {
        var threads = new[] { 1, Environment.ProcessorCount };
        var naive = args.Contains("--naive");
        var ort = args.Contains("--ort");
        var filter = args.FirstOrDefault(a => !a.StartsWith("--"));
        Console.WriteLine($"CPU cores {Environment.ProcessorCount}, Vector512 {Vector512.IsHardwareAccelerated}, kernels {Sgemm.InstructionSet}");
        Console.WriteLine("GFLOP/s = 2*M*N*K*batch / time; median and best wall time of the rounds; cpu = best by thread CPU time (1 thread).");
        Console.WriteLine($"{"shape",-42} {"threads",7} {"median ms",10} {"GFLOP/s",8} {"best ms",9} {"GFLOP/s",8} {"cpu GFLOP/s",12}");
        foreach (var shape in GemmShapes.MiniLm)
        {
            if (filter is not null && !shape.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var t in threads.Distinct())
            {
                using var run = new GemmRun(shape, t);
                Print(shape.Name, shape, t, Measure(run.Execute, t == 1));
                if (ort)
                {
                    using var reference = new OrtMatMulRun(shape, t);
                    Print("  ONNX Runtime MatMul", shape, t, Measure(reference.Execute, t == 1));
                }
                if (naive && shape.Batch > 1)
                    Print("  naive loop (vectorised axpy)", shape, t, Measure(run.ExecuteNaive, t == 1));
            }
        }
    }

    private static void Print(string label, GemmShapes.Shape shape, int threads, (double Median, double Best, double Cpu) ms)
    {
        var cpu = ms.Cpu > 0 ? $"{shape.Flops / ms.Cpu / 1e6,12:F1}" : $"{"-",12}";
        Console.WriteLine($"{label,-42} {threads,7} {ms.Median,10:F3} {shape.Flops / ms.Median / 1e6,8:F1} {ms.Best,9:F3} {shape.Flops / ms.Best / 1e6,8:F1} {cpu}");
    }

    /// <summary>Median and best milliseconds per call after a warm-up of at least 30 calls and 0.3 s.</summary>
    private static (double Median, double Best, double Cpu) Measure(Action action, bool cpuTime)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 30 || sw.ElapsedMilliseconds < 300; i++) action();
        var rounds = new List<double>();
        var bestCpu = double.MaxValue;
        var total = Stopwatch.StartNew();
        while (rounds.Count < 7 || (total.ElapsedMilliseconds < 1500 && rounds.Count < 300))
        {
            var cpu = ThreadCpuClock.Seconds();
            var t = Stopwatch.GetTimestamp();
            action();
            rounds.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            bestCpu = Math.Min(bestCpu, (ThreadCpuClock.Seconds() - cpu) * 1e3);
        }
        rounds.Sort();
        return (rounds[rounds.Count / 2], rounds[0], cpuTime && ThreadCpuClock.IsAvailable ? bestCpu : 0);
    }
}
