using System.Text.Json;

namespace Sparrow.Cli.Tests;

[Collection(ChildProcesses.Name)]
public class EnergyCommandTests
{
    [Fact]
    public void Sleep_costs_almost_no_cpu_energy_and_says_estimated()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        var json = dir.File("energy.json");
        var r = CliRunner.Run("energy", "--energy-method", "estimate", "--watts-per-core", "10", "--json", json, "--", "sleep", "1");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("energy (estimated)", r.Output);
        Assert.Contains("watts per core: 10 W", r.Output);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal("estimate", root.GetProperty("energyMethod").GetString());
        Assert.True(root.GetProperty("estimated").GetBoolean());
        Assert.True(root.GetProperty("durationSeconds").GetDouble() >= 1.0);
        // sleep uses a few milliseconds of CPU to start; a busy second would be 10 J.
        Assert.True(root.GetProperty("cpuSeconds").GetDouble() < 0.2, r.ToString());
        Assert.True(root.GetProperty("joules").GetDouble() < 2, r.ToString());
        Assert.Equal(root.GetProperty("cpuSeconds").GetDouble() * 10, root.GetProperty("cpuJoules").GetDouble(), 6);
    }

    [Fact]
    public void Busy_loop_of_one_cpu_second_costs_one_core_second()
    {
        if (!OperatingSystem.IsLinux()) return;
        // ulimit -t 1 stops the loop after one second of CPU time, however loaded the machine is.
        var r = CliRunner.Run("energy", "--energy-method", "estimate", "--watts-per-core", "10", "--region", "FR", "--pue", "1.5", "--price", "0.2", "--currency", "EUR", "--json", "--",
            "sh", "-c", "ulimit -t 1; while :; do :; done");
        // The loop dies of SIGXCPU: the command failed, and energy says so with exit code 1.
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Output);
        var root = doc.RootElement;
        Assert.NotEqual(0, root.GetProperty("exitCode").GetInt32());
        var cpu = root.GetProperty("cpuSeconds").GetDouble();
        // The kernel checks the limit on its own clock; getrusage has reported 0.86-1.0 s for it here.
        Assert.InRange(cpu, 0.7, 1.6);
        var joules = root.GetProperty("joules").GetDouble();
        Assert.Equal(cpu * 10 + root.GetProperty("dramJoules").GetDouble(), joules, 6);
        // Carbon and cost by hand: kWh × PUE × 56 g (France, Ember 2023) and × 0.2 EUR.
        Assert.Equal(joules / 3.6e6 * 1.5 * 56, root.GetProperty("gCO2e").GetDouble(), 12);
        Assert.Equal(joules / 3.6e6 * 1.5 * 0.2, root.GetProperty("cost").GetDouble(), 12);
        Assert.Equal("EUR", root.GetProperty("currency").GetString());
        Assert.Equal("FR", root.GetProperty("region").GetString());
        Assert.Equal("10 W", root.GetProperty("energyInputs").GetProperty("watts per core").GetString());
    }

    [Fact]
    public void Bad_options_and_missing_commands_are_usage_errors()
    {
        Assert.Equal(2, CliRunner.Run("energy", "--", "/nonexistent/program").ExitCode);
        var r = CliRunner.Run("energy", "--region", "Atlantis", "--", "true");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--region: Unknown region 'Atlantis'", r.Error);
        r = CliRunner.Run("energy", "--pue", "0.8", "--", "true");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--pue", r.Error);
        // Asking for RAPL where there is none is a usage error (skipped where the machine has it).
        if (!Directory.Exists("/sys/class/powercap/intel-rapl:0")) Assert.Equal(2, CliRunner.Run("energy", "--energy-method", "rapl", "--", "true").ExitCode);
    }

    [Fact]
    public void A_misspelt_option_before_the_separator_is_a_usage_error()
    {
        var r = CliRunner.Run("energy", "--regoin", "FR", "--", "true");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--regoin", r.Error);
        // After '--' the words are the command's own: an option-like word there is not ours to check.
        r = CliRunner.Run("energy", "--energy-method", "estimate", "--json", "--", "sh", "-c", "exit 0", "--regoin");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void With_json_on_stdout_the_commands_output_goes_to_stderr_and_short_commands_still_count_memory()
    {
        if (!OperatingSystem.IsLinux()) return;
        var r = CliRunner.Run("energy", "--energy-method", "estimate", "--json", "--", "echo", "hi");
        Assert.True(r.ExitCode == 0, r.ToString());
        // stdout is the JSON alone; what the command printed is copied to stderr.
        using var doc = JsonDocument.Parse(r.Output);
        Assert.StartsWith("{", r.Output.TrimStart());
        Assert.Contains("hi", r.Error);
        // echo ends before the first 100 ms memory sample: its peak comes from the kernel, so the DRAM term is not 0.
        Assert.True(doc.RootElement.GetProperty("dramJoules").GetDouble() > 0, r.ToString());

        // Without --json the command's output goes to our stdout, before the table.
        r = CliRunner.Run("energy", "--energy-method", "estimate", "--", "echo", "hello-from-child");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("hello-from-child", r.Output.TrimStart());
    }

    [Fact]
    public void Csv_gets_one_row_per_run_under_a_stable_header_and_other_files_are_refused()
    {
        using var dir = new TempDirectory();
        var csv = dir.File("runs.csv");
        Assert.Equal(0, CliRunner.Run("energy", "--energy-method", "estimate", "--csv", csv, "--", "true").ExitCode);
        Assert.Equal(1, CliRunner.Run("energy", "--energy-method", "estimate", "--region", "FR", "--csv", csv, "--", "false").ExitCode);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(3, lines.Length);
        Assert.Equal("measuredUtc,command,exitCode,durationSeconds,cpuSeconds,joules,kilowattHours,gCO2e,cost,currency,energyMethod,estimated,region,gramsPerKwh,pue,pricePerKwh", lines[0]);
        var first = lines[1].Split(',');
        var second = lines[2].Split(',');
        Assert.Equal(("true", "0", "estimate", "true"), (first[1], first[2], first[10], first[11]));
        Assert.Equal(("false", "1", "FR"), (second[1], second[2], second[12]));
        // joules → kWh → gCO2e with the row's own intensity and PUE.
        var joules = double.Parse(second[5], System.Globalization.CultureInfo.InvariantCulture);
        var grams = double.Parse(second[7], System.Globalization.CultureInfo.InvariantCulture);
        var intensity = double.Parse(second[13], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(joules / 3.6e6 * intensity, grams, 9);

        // A file with other columns is refused before anything runs, and left as it was.
        var other = dir.File("other.csv");
        File.WriteAllText(other, "a,b\n1,2\n");
        Assert.Equal(2, CliRunner.Run("energy", "--csv", other, "--", "true").ExitCode);
        Assert.Equal("a,b\n1,2\n", File.ReadAllText(other));
        Assert.Equal(2, CliRunner.Run("energy", "--csv", dir.File("runs.txt"), "--", "true").ExitCode);
    }
}
