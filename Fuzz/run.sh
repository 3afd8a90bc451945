#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each on its committed corpus.
# Usage: Fuzz/run.sh [SECONDS] [TARGET...] (default 30 seconds each, every target):
#   wire           the wire parsers (netlink, NFLOG, IP, TCP, capture files), built from
#                  Sources/SamplerWire with swiftc
#   configuration, records, requests, classifier
#                  the configuration parser, report's records reader, the HTTP request
#                  parser and request framing, the classifier's invariants: one binary
#                  (Fuzz/Targets) built by SwiftPM with SAMPLER_FUZZ=1 in .build/fuzz-spm
# New inputs go to a scratch copy of each corpus; crashes to Fuzz/crashes/ (not
# committed: minimize them and add them as tests).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wire configuration records requests classifier)
mkdir -p .build/fuzz Fuzz/crashes

for target in "${targets[@]}"; do
  case "$target" in
    wire)
      swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
        -enable-experimental-feature Lifetimes -module-name FuzzWire \
        Sources/SamplerWire/*.swift Fuzz/FuzzWire.swift -o .build/fuzz/fuzz-wire
      binary=(.build/fuzz/fuzz-wire)
      corpus=Fuzz/corpus ;;
    configuration|records|requests|classifier)
      if [ ! -x .build/fuzz-spm/x86_64-unknown-linux-gnu/release/sampler-fuzz ] || [ -n "$(find Sources Fuzz/Targets -newer .build/fuzz-spm/x86_64-unknown-linux-gnu/release/sampler-fuzz -name '*.swift' | head -1)" ]; then
        # lld (Fuzz/toolset.json): gold fails on the sanitized objects' debug information.
        SAMPLER_FUZZ=1 swift build -c release --scratch-path .build/fuzz-spm --product sampler-fuzz \
          -Xswiftc -sanitize=fuzzer,address --toolset Fuzz/toolset.json >&2
      fi
      binary=(env FUZZ_TARGET="$target" .build/fuzz-spm/x86_64-unknown-linux-gnu/release/sampler-fuzz)
      corpus=Fuzz/corpus-$target ;;
    *) echo "Fuzz/run.sh: unknown target $target" >&2; exit 64 ;;
  esac
  scratch=.build/fuzz/corpus-$target
  rm -rf "$scratch" && mkdir -p "$scratch"
  [ -d "$corpus" ] && cp -r "$corpus"/. "$scratch"/
  echo "== $target"
  SWIFT_BACKTRACE=enable=no "${binary[@]}" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=Fuzz/crashes/"$target"- "$scratch"
done
