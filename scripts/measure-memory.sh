#!/usr/bin/env bash
# Peak resident memory (GNU time's "Maximum resident set size") of sparrow prune (Wanda, SparseGPT) and sparrow bench
# on the embedded MiniLM. Usage: scripts/measure-memory.sh [OUT_FOLDER]. Needs /usr/bin/time (apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
dotnet build src/Sparrow.Cli -c Release --nologo -v q >/dev/null
sparrow=(dotnet src/Sparrow.Cli/bin/Release/net10.0/sparrow.dll)
measure() {
  local label="$1"; shift
  /usr/bin/time -v -o "$out/$label.time" "${sparrow[@]}" "$@" >"$out/$label.log" 2>&1
  local kb wall
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/$label.time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/$label.time")
  printf '| %s | `sparrow %s` | %d | %s |\n' "$label" "$*" "$((kb / 1024))" "$wall"
}
echo "| run | command | peak RSS MiB | wall |"
echo "| --- | --- | --- | --- |"
measure prune-wanda prune --method wanda --sparsity 0.5 -o "$out/wanda.onnx"
measure prune-sparsegpt prune --method sparsegpt --sparsity 0.5 -o "$out/sparsegpt.onnx"
measure bench bench --batch 1,8 --seq 32,128 --warmup 5 --runs 10
