#!/usr/bin/env bash
# Coverage-guided fuzzing of the ONNX loader (import, session compile, one run) with SharpFuzz and AFL++.
#   scripts/fuzz-loader.sh [SECONDS]      (default 600)
# Installs what it needs (afl++ via apt-get, the SharpFuzz.CommandLine tool into artifacts/fuzz/tools), publishes
# fuzz/Sparrow.Fuzz, instruments Sparrow.Graph, Sparrow.Runtime, Sparrow.Tensors and Google.Protobuf, seeds AFL++
# with small real models (../shared/onnx-node-tests, a built MLP) and the committed crash corpus, runs afl-fuzz for
# SECONDS, prints its figures and copies any crash or hang into tests/Sparrow.Runtime.Tests/FuzzCorpus, where a
# regression test replays every file.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
work="artifacts/fuzz"
corpus="tests/Sparrow.Runtime.Tests/FuzzCorpus"
shared="../shared/onnx-node-tests"
[ -d "$shared" ] || shared="/work/shared/onnx-node-tests"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v afl-fuzz >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get install -y afl++
fi
if [ ! -x "$work/tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tools"
fi

rm -rf "$work/bin" "$work/seeds"
dotnet publish fuzz/Sparrow.Fuzz -c Release -o "$work/bin" --nologo -v q
# Seeds: every 8th small (<= 1 KB) operator test model (about 190; AFL++ wants few), a built MLP, and the inputs that once crashed.
mkdir -p "$work/seeds"
find "$shared" -name model.onnx -size -1025c | sort | awk "NR % 8 == 1" | while read -r f; do
  cp "$f" "$work/seeds/$(basename "$(dirname "$f")").onnx"
done
dotnet "$work/bin/Sparrow.Fuzz.dll" --write-mlp "$work/seeds/mlp.onnx"
[ -d "$corpus" ] && cp "$corpus"/* "$work/seeds/" 2>/dev/null || true
echo "seeds: $(ls "$work/seeds" | wc -l)"
# Instrumented code reports coverage to AFL++'s shared memory, so it runs only under afl-fuzz (seeds made first).
for lib in Sparrow.Tensors Sparrow.Graph Sparrow.Runtime Google.Protobuf; do
  "$work/tools/sharpfuzz" "$work/bin/$lib.dll"
done

out="$work/findings-$(date -u +%Y%m%dT%H%M%S)"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# -t 5000: an input that takes over 5 s is a hang; -m none: .NET reserves far more virtual memory than it uses.
afl-fuzz -i "$work/seeds" -o "$out" -V "$seconds" -t 5000 -m none -- dotnet "$work/bin/Sparrow.Fuzz.dll" || true

stats="$out/default/fuzzer_stats"
if [ -f "$stats" ]; then
  grep -E "^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg|edges_found|total_edges) " "$stats"
fi
mkdir -p "$corpus"
for kind in crashes hangs; do
  for f in "$out/default/$kind"/id:*; do
    [ -e "$f" ] || continue
    name="$kind-$(basename "$f" | tr -c 'A-Za-z0-9._\n-' '_' | cut -c1-60)-$(sha1sum "$f" | cut -c1-8).onnx"
    cp "$f" "$corpus/$name"
    echo "kept $corpus/$name"
  done
done
echo "findings in $out"
