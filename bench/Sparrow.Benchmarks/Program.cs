using BenchmarkDotNet.Running;
using Sparrow.Benchmarks;

if (args.Length > 0 && args[0] == "quick")
{
    QuickGemm.Run(args.AsSpan(1).ToArray());
    return;
}
if (args.Length > 0 && args[0] == "load")
{
    Sparrow.Benchmarks.Load.LoadCommand.Run(args.AsSpan(1).ToArray());
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args);
