namespace Sparrow.Training.Data;

/// <summary>
/// Draws mini-batches of example indices: a seeded shuffle of all examples, consumed in order, reshuffled when
/// used up, so every batch is full. Its state (generator, order, position) goes into checkpoints.
/// </summary>
public sealed class BatchSampler
{
    private readonly Xoshiro256 _random;
    private int[] _order;
    private int _position;

    /// <summary>A sampler over <paramref name="count"/> examples.</summary>
    public BatchSampler(int count, int batchSize, long seed, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Count = count;
        BatchSize = batchSize;
        Shuffle = shuffle;
        _random = new Xoshiro256(seed);
        _order = Enumerable.Range(0, count).ToArray();
        if (shuffle) _random.Shuffle(_order.AsSpan());
    }

    /// <summary>Number of examples.</summary>
    public int Count { get; }

    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each pass over the data is in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>Passes over the data begun so far (the first is 0).</summary>
    public int Epoch { get; private set; }

    /// <summary>The next batch's example indices.</summary>
    public int[] Next()
    {
        var batch = new int[BatchSize];
        for (var i = 0; i < batch.Length; i++)
        {
            if (_position == _order.Length)
            {
                if (Shuffle) _random.Shuffle(_order.AsSpan());
                _position = 0;
                Epoch++;
            }
            batch[i] = _order[_position++];
        }
        return batch;
    }

    /// <summary>Writes the state (generator, order, position, epoch).</summary>
    public void Save(BinaryWriter writer)
    {
        foreach (var s in _random.State) writer.Write(s);
        writer.Write(_order.Length);
        foreach (var i in _order) writer.Write(i);
        writer.Write(_position);
        writer.Write(Epoch);
    }

    /// <summary>Restores a state written by <see cref="Save"/>.</summary>
    public void Load(BinaryReader reader)
    {
        _random.State = [reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt64()];
        var length = reader.ReadInt32();
        if (length != Count) throw new InvalidDataException($"The checkpoint's sampler covers {length} examples, this data set has {Count}.");
        _order = new int[length];
        for (var i = 0; i < length; i++) _order[i] = reader.ReadInt32();
        _position = reader.ReadInt32();
        Epoch = reader.ReadInt32();
    }
}
