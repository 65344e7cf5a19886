namespace Sparrow.Graph.Tests;

/// <summary><see cref="AtomicFile"/> replaces files whole and cleans up the temporaries of killed writers.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sparrow-atomic-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Temp(string target, int pid) => Path.Combine(_folder, $".{target}.{pid}.{Guid.NewGuid():N}.tmp");

    [Fact]
    public void A_write_removes_leftover_temporaries_of_dead_processes_for_the_same_file_only()
    {
        // No process can have this id (Linux caps pids far below it; Windows ids are multiples of 4).
        const int deadPid = int.MaxValue;
        var stale = Temp("out.onnx", deadPid);
        var ownInProgress = Temp("out.onnx", Environment.ProcessId);
        var otherTarget = Temp("other.onnx", deadPid);
        var longerName = Temp("out.onnx.data", deadPid); // a different file whose name starts with this one's
        var notATemporary = Path.Combine(_folder, $".out.onnx.{deadPid}.not-a-guid.tmp");
        foreach (var f in new[] { stale, ownInProgress, otherTarget, longerName, notATemporary }) File.WriteAllText(f, "partial");

        AtomicFile.WriteAllText(Path.Combine(_folder, "out.onnx"), "done");

        Assert.Equal("done", File.ReadAllText(Path.Combine(_folder, "out.onnx")));
        Assert.False(File.Exists(stale), "the dead writer's temporary file was left behind");
        Assert.True(File.Exists(ownInProgress), "a running process's temporary file (possibly a write in progress) was deleted");
        Assert.True(File.Exists(otherTarget));
        Assert.True(File.Exists(longerName));
        Assert.True(File.Exists(notATemporary));
    }

    /// <summary>
    /// Devices are written in place: a rename over /dev/null as root replaced the device with a regular file. Only the
    /// decision is tested here; a wrong one in a real write would damage the machine running the tests.
    /// </summary>
    [Fact]
    public void Device_files_are_written_in_place_and_ordinary_files_are_not()
    {
        Assert.Equal(!OperatingSystem.IsWindows() && File.Exists("/dev/null"), AtomicFile.IsDevice("/dev/null"));
        Assert.False(AtomicFile.IsDevice("/dev/no-such-device-sparrow"));
        var ordinary = Path.Combine(_folder, "plain.txt");
        File.WriteAllText(ordinary, "x");
        Assert.False(AtomicFile.IsDevice(ordinary));
    }

    [Fact]
    public void A_failed_write_keeps_the_old_file_and_leaves_no_temporary()
    {
        var target = Path.Combine(_folder, "keep.txt");
        File.WriteAllText(target, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, s => { s.WriteByte(1); throw new InvalidOperationException("boom"); }));
        Assert.Equal("old", File.ReadAllText(target));
        Assert.Equal(["keep.txt"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }
}
