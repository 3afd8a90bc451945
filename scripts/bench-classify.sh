#!/usr/bin/env bash
# `sampler classify` on a large capture against `tcpdump -r FILE -w /dev/null` on the same
# file, in the same run: how close the offline path comes to reading the file at all.
#
#   scripts/bench-classify.sh [CONNECTIONS] [RUNS]     (defaults: 500000 connections, 5 runs)
#   SAMPLER=/path/to/sampler scripts/bench-classify.sh   another build, not built here
#   CAPTURE=/path/to/capture.pcap scripts/bench-classify.sh  a capture made before (or another one)
#   BEFORE=/path/to/old/sampler scripts/bench-classify.sh  also an older build, in the same rounds:
#                                                      a before and after side by side
#
# Makes the capture with scripts/make-capture.py (about 3.8 packets a connection; kept in
# .build/bench between runs), builds the release binary (unless SAMPLER names one), then
# times each command RUNS times (wall clock, the file in the page cache after a first
# read) and prints the medians and their ratio. Records go to /dev/null; the summary table goes to standard error, shown once.
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-500000}
runs=${2:-5}
capture=${CAPTURE:-.build/bench/capture-$connections.pcap}
for tool in tcpdump bc; do
  command -v "$tool" >/dev/null || { echo "bench-classify: $tool is missing: apt-get install $tool" >&2; exit 1; }
done
mkdir -p .build/bench
[ -s "$capture" ] || scripts/make-capture.py "$capture" "$connections"
if [ -n "${SAMPLER:-}" ]; then
  sampler=$SAMPLER
else
  swift build -c release >/dev/null
  sampler=$(swift build -c release --show-bin-path)/sampler
fi

cat "$capture" >/dev/null  # into the page cache
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc; }

tcpdump_times=() sampler_times=() before_times=()
for _ in $(seq "$runs"); do
  tcpdump_times+=("$(seconds tcpdump -r "$capture" -w /dev/null)")
  [ -n "${BEFORE:-}" ] && before_times+=("$(seconds "$BEFORE" classify "$capture")")
  sampler_times+=("$(seconds "$sampler" classify "$capture")")
done
t=$(printf '%s\n' "${tcpdump_times[@]}" | median)
s=$(printf '%s\n' "${sampler_times[@]}" | median)
"$sampler" classify "$capture" 2>&1 >/dev/null  # the summary table
printf 'capture: %s (%s connections, %s bytes)\n' "$capture" "$connections" "$(stat -L -c %s "$capture")"
printf 'tcpdump -r FILE -w /dev/null: %.3f s (median of %d: %s)\n' "$t" "$runs" "${tcpdump_times[*]}"
if [ -n "${BEFORE:-}" ]; then
  b=$(printf '%s\n' "${before_times[@]}" | median)
  printf 'before: sampler classify FILE > /dev/null (%s): %.3f s (median of %d: %s), ratio %.2fx\n' \
    "$BEFORE" "$b" "$runs" "${before_times[*]}" "$(echo "$b / $t" | bc -l)"
fi
printf 'sampler classify FILE > /dev/null (%s): %.3f s (median of %d: %s)\n' "$sampler" "$s" "$runs" "${sampler_times[*]}"
printf 'ratio: %.2fx\n' "$(echo "$s / $t" | bc -l)"
