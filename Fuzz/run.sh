#!/usr/bin/env bash
# Builds the libFuzzer target for the wire parsers and runs it on the committed corpus.
# Usage: Fuzz/run.sh [SECONDS] (default 30). New inputs go to a scratch copy of the
# corpus; crashes to Fuzz/crashes/ (not committed: minimize and add them as tests).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
mkdir -p .build/fuzz Fuzz/crashes
swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
  -enable-experimental-feature Lifetimes -module-name FuzzWire \
  Sources/SamplerWire/*.swift Fuzz/FuzzWire.swift -o .build/fuzz/fuzz-wire
rm -rf .build/fuzz/corpus && cp -r Fuzz/corpus .build/fuzz/corpus
SWIFT_BACKTRACE=enable=no .build/fuzz/fuzz-wire -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix=Fuzz/crashes/ .build/fuzz/corpus
