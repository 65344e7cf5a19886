#!/usr/bin/env bash
# Makes the task samples that `sparrow demo` and the tests read (src/Sparrow.Data/Evaluation/Samples/*.tsv) from the
# full data sets that scripts/install-datasets.sh installs: a seeded, class-balanced sample of each task
# (fortunes: 960 items, 80 per topic; spam: 400 mails, 200 ham and 200 spam, cut to 600 characters).
# The same data sets give the same files, byte for byte. Usage: scripts/make-demo-samples.sh [DATA] (default:
# $SPARROW_DATA_DIR, else ~/.cache/sparrow/datasets). Sources and licences: src/Sparrow.Data/Evaluation/Samples/NOTICE.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${1:-${SPARROW_DATA_DIR:-$HOME/.cache/sparrow/datasets}}"
dotnet run --project "$ROOT/src/Sparrow.Cli" -c Release -- demo make-samples --data "$DATA" --out "$ROOT/src/Sparrow.Data/Evaluation/Samples"
