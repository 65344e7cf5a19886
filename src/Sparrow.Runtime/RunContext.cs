namespace Sparrow.Runtime;

/// <summary>Per-run settings that operators read (for now, how many threads they may use).</summary>
internal sealed class RunContext
{
    public RunContext(int threads) => Threads = Math.Max(1, threads);

    public int Threads { get; }
}
