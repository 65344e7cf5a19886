using System.Globalization;
using System.Text;

namespace Sparrow.Serving.Metrics;

/// <summary>A Prometheus histogram: cumulative counts per upper bound, a sum and a count. Thread-safe.</summary>
internal sealed class Histogram(string name, string help, double[] bounds)
{
    private readonly long[] _counts = new long[bounds.Length + 1];
    private readonly Lock _lock = new();
    private double _sum;
    private long _count;

    public string Name { get; } = name;

    public long Count
    {
        get { lock (_lock) return _count; }
    }

    public double Sum
    {
        get { lock (_lock) return _sum; }
    }

    public void Observe(double value)
    {
        var bucket = Array.FindIndex(bounds, b => value <= b);
        lock (_lock)
        {
            _counts[bucket < 0 ? bounds.Length : bucket]++;
            _sum += value;
            _count++;
        }
    }

    public void Write(StringBuilder text)
    {
        text.Append("# HELP ").Append(Name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(" histogram\n");
        lock (_lock)
        {
            long cumulative = 0;
            for (var i = 0; i < bounds.Length; i++)
            {
                cumulative += _counts[i];
                text.Append(Name).Append("_bucket{le=\"").Append(Format(bounds[i])).Append("\"} ").Append(cumulative).Append('\n');
            }
            cumulative += _counts[^1];
            text.Append(Name).Append("_bucket{le=\"+Inf\"} ").Append(cumulative).Append('\n');
            text.Append(Name).Append("_sum ").Append(Format(_sum)).Append('\n');
            text.Append(Name).Append("_count ").Append(_count).Append('\n');
        }
    }

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
