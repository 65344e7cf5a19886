using Sparrow.Training.Autograd;

namespace Sparrow.Training.Optimization;

/// <summary>
/// Updates parameters from their gradients. Pruned positions (a parameter's mask) are skipped: their value,
/// gradient and optimizer state are never touched, so they stay exactly zero. State is kept per parameter
/// name and can be saved into checkpoints.
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<string, float[]> _state = new();

    /// <summary>Updates taken so far.</summary>
    public long Updates { get; protected set; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>.</summary>
    public void Step(IReadOnlyList<Parameter> parameters, float learningRate)
    {
        Updates++;
        foreach (var p in parameters) Update(p, learningRate);
    }

    /// <summary>Updates one parameter.</summary>
    protected abstract void Update(Parameter parameter, float learningRate);

    /// <summary>The state array <paramref name="kind"/> of a parameter (zeros at first).</summary>
    protected float[] State(string kind, Parameter parameter)
    {
        var key = $"{kind}:{parameter.Name}";
        if (!_state.TryGetValue(key, out var s)) _state[key] = s = new float[parameter.Length];
        return s;
    }

    /// <summary>The flat positions that may change: the kept positions of a masked parameter, or null for all of them.</summary>
    protected static int[]? Trainable(Parameter parameter) => parameter.Mask?.KeptIndices;

    /// <summary>Writes the update count and every state array.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(GetType().Name);
        writer.Write(Updates);
        writer.Write(_state.Count);
        foreach (var (key, values) in _state.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            writer.Write(key);
            writer.Write(values.Length);
            foreach (var v in values) writer.Write(v);
        }
    }

    /// <summary>Restores a state written by <see cref="Save"/> by the same kind of optimizer.</summary>
    public void Load(BinaryReader reader)
    {
        var kind = reader.ReadString();
        if (kind != GetType().Name) throw new InvalidDataException($"The checkpoint holds the state of {kind}, not {GetType().Name}.");
        Updates = reader.ReadInt64();
        _state.Clear();
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            var values = new float[reader.ReadInt32()];
            for (var j = 0; j < values.Length; j++) values[j] = reader.ReadSingle();
            _state[key] = values;
        }
    }
}

/// <summary>SGD with momentum (PyTorch's form): v = μ v + g + λ w; w −= lr · v (or with Nesterov, lr · (g + μ v)).</summary>
public sealed class SgdMomentum(float momentum = 0.9f, float weightDecay = 0f, bool nesterov = false) : Optimizer
{
    /// <inheritdoc/>
    protected override void Update(Parameter parameter, float learningRate)
    {
        var w = parameter.Value.Span;
        var g = parameter.Gradient;
        var v = momentum != 0f ? State("velocity", parameter) : null;
        var kept = Trainable(parameter);
        var count = kept?.Length ?? w.Length;
        for (var k = 0; k < count; k++)
        {
            var i = kept is null ? k : kept[k];
            var gi = g[i] + weightDecay * w[i];
            if (v is not null)
            {
                v[i] = momentum * v[i] + gi;
                gi = nesterov ? gi + momentum * v[i] : v[i];
            }
            w[i] -= learningRate * gi;
        }
    }
}

/// <summary>AdamW: Adam moments with bias correction and decoupled weight decay (w −= lr · λ · w).</summary>
public sealed class AdamW(float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f) : Optimizer
{
    /// <inheritdoc/>
    protected override void Update(Parameter parameter, float learningRate)
    {
        var w = parameter.Value.Span;
        var g = parameter.Gradient;
        var m = State("m", parameter);
        var v = State("v", parameter);
        var stepSize = (float)(learningRate / (1.0 - Math.Pow(beta1, Updates)));
        var root2 = (float)Math.Sqrt(1.0 - Math.Pow(beta2, Updates));
        var decay = 1f - learningRate * weightDecay;
        var kept = Trainable(parameter);
        var count = kept?.Length ?? w.Length;
        for (var k = 0; k < count; k++)
        {
            var i = kept is null ? k : kept[k];
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            w[i] = w[i] * decay - stepSize * m[i] / (MathF.Sqrt(v[i]) / root2 + epsilon);
        }
    }
}
