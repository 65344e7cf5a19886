namespace Sparrow.Training.Data;

/// <summary>
/// A small seeded random generator (xoshiro256**, seeded through SplitMix64) whose whole state is four
/// numbers, so that a checkpoint can store it and a resumed run draws exactly the same sequence.
/// </summary>
public sealed class Xoshiro256
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator seeded from <paramref name="seed"/>.</summary>
    public Xoshiro256(long seed)
    {
        var x = (ulong)seed;
        ulong Next()
        {
            x += 0x9E3779B97F4A7C15UL;
            var z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
        _s0 = Next();
        _s1 = Next();
        _s2 = Next();
        _s3 = Next();
    }

    /// <summary>The state, for checkpoints.</summary>
    public ulong[] State
    {
        get => [_s0, _s1, _s2, _s3];
        set
        {
            if (value.Length != 4) throw new ArgumentException("The state has four numbers.");
            (_s0, _s1, _s2, _s3) = (value[0], value[1], value[2], value[3]);
        }
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>An integer in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive) => (int)(NextDouble() * maxExclusive);

    /// <summary>A standard normal draw (Box-Muller).</summary>
    public double NextGaussian() => Math.Sqrt(-2.0 * Math.Log(1.0 - NextDouble())) * Math.Cos(2.0 * Math.PI * NextDouble());

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
