using System.Globalization;
using Sparrow.Runtime;

namespace Sparrow.Benchmarks.Load;

/// <summary>
/// <c>dotnet run -c Release --project bench/Sparrow.Benchmarks -- load [--threads 8] [--runs 1000] [--sequence 8] [--append BENCHMARKS.md]</c>:
/// the concurrent load run on MiniLM, dense and 90% pruned (CSR), printed as a Markdown table and appended to a file when asked.
/// </summary>
public static class LoadCommand
{
    public static void Run(string[] args)
    {
        int Int(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        var threads = Int("--threads", 8);
        var runs = Int("--runs", 1000);
        var sequence = Int("--sequence", 8);
        var append = Array.IndexOf(args, "--append") is var a and >= 0 ? args[a + 1] : null;

        var inputs = ConcurrentLoad.MiniLmInputs(8, sequence);
        var rows = new List<string>();
        foreach (var (label, kernel) in new[] { ("MiniLM dense", "dense"), ("MiniLM 90% pruned (CSR)", "csr") })
        {
            var model = kernel == "dense" ? ConcurrentLoad.MiniLm() : ConcurrentLoad.PrunedMiniLm(0.9);
            using var session = new InferenceSession(model, ConcurrentLoad.Options(kernel));
            var result = ConcurrentLoad.Run(session, label, inputs, threads, runs);
            rows.Add(ConcurrentLoad.Row(result));
            Console.WriteLine(rows[^1]);
            if (result.Failed > 0) Console.Error.WriteLine(result.FirstFailure);
        }
        var table = ConcurrentLoad.Header + "\n" + string.Join("\n", rows) + "\n";
        Console.WriteLine(table);
        if (append is not null)
            File.AppendAllText(append, $"\nConcurrent load, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, one session shared by {threads} threads " +
                $"(IntraOpThreads = 1), each run's outputs compared bit for bit with a sequential run:\n\n{table}");
    }
}
