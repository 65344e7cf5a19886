using Sparrow.Graph;

namespace Sparrow.Runtime;

/// <summary>Wall time per node and per op type, summed over the runs it was passed to.</summary>
public sealed class NodeProfile
{
    private readonly Dictionary<string, TimeSpan> _byOpType = new();
    private readonly object _gate = new();

    /// <summary>How many runs were counted with <see cref="CountRun"/>.</summary>
    public int Runs { get; private set; }

    internal void Record(Node node, TimeSpan elapsed)
    {
        lock (_gate)
        {
            _byOpType[node.OpType] = _byOpType.GetValueOrDefault(node.OpType) + elapsed;
        }
    }

    /// <summary>Counts one run; the session calls it once per run it profiles.</summary>
    public void CountRun()
    {
        lock (_gate) Runs++;
    }

    /// <summary>Summed wall time per op type, a snapshot.</summary>
    public IReadOnlyDictionary<string, TimeSpan> ByOpType
    {
        get { lock (_gate) return new Dictionary<string, TimeSpan>(_byOpType); }
    }
}
