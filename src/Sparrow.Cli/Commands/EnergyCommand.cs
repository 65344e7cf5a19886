using System.CommandLine;
using System.Globalization;
using Sparrow.Cli.Execution;
using Sparrow.Energy;
using Sparrow.Graph;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow energy [options] -- COMMAND ARGS</c>: runs any command and reports its duration, CPU time, energy,
/// carbon and cost, with the method used and its inputs. Exit code: 0 when the command succeeded, 1 when it
/// failed (its own code is printed and in the JSON), 2 when it could not be started or an option is wrong.
/// </summary>
internal static class EnergyCommand
{
    public static Command Create(CommandContext context)
    {
        var commandArgs = new Argument<string[]>("command")
        {
            Description = "The command to measure and its arguments, after '--' (e.g. sparrow energy -- python train.py).",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = JsonOutput.Option();
        var csv = new Option<string?>("--csv") { Description = "Append one row (stable columns) for this run to this .csv file, creating it with a header when missing." };
        var energy = new EnergyOptions();
        var command = new Command("energy", "Runs a command and measures its energy, carbon and cost (RAPL, perf, or an estimate from CPU time, always labelled).");
        command.Add(commandArgs);
        energy.AddTo(command);
        command.Add(json);
        command.Add(csv);
        command.SetAction(parse => Run(context, parse.GetValue(commandArgs) ?? [], energy.Read(parse), JsonOutput.Target(parse, json), parse.GetValue(csv)));
        return command;
    }

    /// <param name="json">Where the JSON goes: null (nowhere), "" (standard output, instead of the table) or a file.</param>
    /// <param name="csv">A .csv file to append this run's row to, or null.</param>
    internal static int Run(CommandContext context, IReadOnlyList<string> commandLine, EnergySettings settings, string? json, string? csv = null)
    {
        if (csv is not null && !string.Equals(Path.GetExtension(csv), ".csv", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"--csv {csv}: give a file name ending in .csv.");
        // Read before the command runs, so that a file with other columns stops the run before anything is measured.
        var existingCsv = csv is not null && File.Exists(csv) ? File.ReadAllText(csv) : null;
        if (csv is not null) EnergyCsv.CheckCommandFile(existingCsv, csv);
        // The child's stdout goes where our remarks go: our stderr when the JSON owns stdout, so the JSON stays pure.
        var r = EnergyRun.Run(commandLine, settings, context.Remarks.Profile.Out.Writer, context.Error.Profile.Out.Writer);
        var footprintSettings = settings.Footprint();
        JsonOutput.Write(context, json, Json(context, r, footprintSettings), () => Print(context.Console, r, footprintSettings));
        if (csv is not null)
        {
            AtomicFile.WriteAllText(csv, EnergyCsv.AppendCommandRow(existingCsv, csv, r, footprintSettings, DateTime.UtcNow));
            context.Info($"Appended this run to [bold]{Markup.Escape(csv)}[/].");
        }
        return r.ExitCode == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static void Print(IAnsiConsole console, EnergyRunResult r, FootprintSettings s)
    {
        var kind = EnergyFormat.Kind(r.Reading.Method);
        var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape($"energy of: {string.Join(' ', r.Command)}"))
            .AddColumn("").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("exit code", r.ExitCode.ToString(CultureInfo.InvariantCulture));
        Row("duration", r.Duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s");
        Row("CPU time (user+sys)", r.CpuSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s");
        Row($"energy ({kind})", EnergyFormat.Joules(r.Reading.Joules));
        Row("energy, kWh", r.Reading.KilowattHours.ToString("0.000e+0", CultureInfo.InvariantCulture) + " kWh");
        Row("average power", r.Reading.AverageWatts.ToString("0.###", CultureInfo.InvariantCulture) + " W");
        Row($"carbon ({kind})", EnergyFormat.Grams(r.Footprint.GramsCo2e));
        Row($"cost ({kind})", EnergyFormat.Money(r.Footprint.Cost, s.Currency));
        console.Write(table);
        console.WriteLine($"Method: {r.Reading.MethodLabel}.");
        foreach (var i in r.Reading.Inputs) console.WriteLine($"  {i.Name}: {i.Value}");
        console.WriteLine($"Carbon and cost: {s.Describe()}.");
        foreach (var skip in r.Skipped) console.WriteLine($"Skipped: {skip}.");
        if (r.ExitCode != 0) console.WriteLine($"The command failed with exit code {r.ExitCode}; sparrow energy exits with 1.");
    }

    private static object Json(CommandContext context, EnergyRunResult r, FootprintSettings s) => new
    {
        Command = context.CommandLine,
        Measured = r.Command,
        MeasuredUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        r.ExitCode,
        DurationSeconds = r.Duration.TotalSeconds,
        r.CpuSeconds,
        PeakResidentBytes = r.PeakResidentBytes,
        r.Reading.Joules,
        CpuJoules = r.Reading.CpuJoules,
        DramJoules = r.Reading.DramJoules,
        r.Reading.KilowattHours,
        gCO2e = r.Footprint.GramsCo2e,
        r.Footprint.Cost,
        s.Currency,
        EnergyMethod = EnergyFormat.MethodName(r.Reading.Method),
        Estimated = r.Reading.IsEstimated,
        EnergyInputs = r.Reading.Inputs.ToDictionary(i => i.Name, i => i.Value),
        Region = s.Grid.Code,
        GramsPerKwh = s.Grid.GramsPerKilowattHour,
        CarbonSource = $"{s.Grid.Source}, {s.Grid.Year}",
        s.Pue,
        PricePerKwh = s.PricePerKilowattHour,
        Skipped = r.Skipped,
    };
}
