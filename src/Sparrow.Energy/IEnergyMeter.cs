namespace Sparrow.Energy;

/// <summary>
/// Measures the energy of a block of work: <c>using var m = meter.Start(); ...; var reading = m.Stop();</c>.
/// Measurements are independent snapshots, so they nest and overlap freely.
/// </summary>
public interface IEnergyMeter
{
    /// <summary>How this meter obtains its figures.</summary>
    EnergyMethod Method { get; }

    /// <summary>One line saying what is measured and how (e.g. the packages read, or the power figures assumed).</summary>
    string Description { get; }

    /// <summary>Starts a measurement; stop it with <see cref="EnergyMeasurement.Stop"/> (disposing stops it too).</summary>
    EnergyMeasurement Start();
}

/// <summary>A running measurement: <see cref="Stop"/> returns the energy since it started.</summary>
public abstract class EnergyMeasurement : IDisposable
{
    private EnergyReading? _reading;

    /// <summary>The reading, once stopped; null while running.</summary>
    public EnergyReading? Reading => _reading;

    /// <summary>Ends the measurement and returns its reading; later calls return the same reading.</summary>
    public EnergyReading Stop() => _reading ??= StopCore();

    /// <summary>Takes the closing snapshot and computes the reading; called once.</summary>
    protected abstract EnergyReading StopCore();

    /// <summary>Stops the measurement if it still runs and releases what it holds.</summary>
    public void Dispose()
    {
        if (_reading is null)
        {
            try
            {
                Stop();
            }
            catch (EnergyMeterException)
            {
                // A reading nobody asked for is not worth an exception from Dispose.
            }
        }
        DisposeCore();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources (e.g. a perf process); the default holds none.</summary>
    protected virtual void DisposeCore()
    {
    }
}

/// <summary>A meter could not read its counter; the message says why and, where it can, how to fix it.</summary>
public sealed class EnergyMeterException : Exception
{
    /// <summary>Creates the exception with its message.</summary>
    public EnergyMeterException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public EnergyMeterException(string message, Exception inner) : base(message, inner)
    {
    }
}
