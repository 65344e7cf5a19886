using Sparrow.Graph;

namespace Sparrow.Runtime;

/// <summary>Wall time per node and per op type, summed over the runs it was passed to.</summary>
public sealed class NodeProfile
{
    private readonly Dictionary<string, TimeSpan> _byOpType = new();
    private readonly object _gate = new();

    public int Runs { get; private set; }

    internal void Record(Node node, TimeSpan elapsed)
    {
        lock (_gate)
        {
            _byOpType[node.OpType] = _byOpType.GetValueOrDefault(node.OpType) + elapsed;
        }
    }

    public void CountRun()
    {
        lock (_gate) Runs++;
    }

    public IReadOnlyDictionary<string, TimeSpan> ByOpType
    {
        get { lock (_gate) return new Dictionary<string, TimeSpan>(_byOpType); }
    }
}
