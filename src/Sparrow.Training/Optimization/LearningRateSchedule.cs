namespace Sparrow.Training.Optimization;

/// <summary>The learning rate at each step (0-based).</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The rate for step <paramref name="step"/>.</summary>
    public abstract float Rate(long step);
}

/// <summary>One rate throughout.</summary>
public sealed class ConstantSchedule(float rate) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(long step) => rate;
}

/// <summary>Linear warm-up from 0 to the peak over <c>warmupSteps</c>, then a cosine decay to <c>minimum</c> at <c>totalSteps</c>.</summary>
public sealed class WarmupCosineSchedule(float peak, long warmupSteps, long totalSteps, float minimum = 0f) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(long step)
    {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        var decaySteps = Math.Max(1, totalSteps - warmupSteps);
        var progress = Math.Clamp((double)(step - warmupSteps) / decaySteps, 0, 1);
        return (float)(minimum + (peak - minimum) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}

/// <summary>Linear warm-up from 0 to the peak over <c>warmupSteps</c>, then a straight line to <c>final</c> at <c>totalSteps</c>.</summary>
public sealed class WarmupLinearSchedule(float peak, long warmupSteps, long totalSteps, float final = 0f) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(long step)
    {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        var decaySteps = Math.Max(1, totalSteps - warmupSteps);
        var progress = Math.Clamp((double)(step - warmupSteps) / decaySteps, 0, 1);
        return (float)(peak + (final - peak) * progress);
    }
}
