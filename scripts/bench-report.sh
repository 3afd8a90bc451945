#!/usr/bin/env bash
# `sampler report` on a large records file against the shortest Python loop that reads the
# same lines (json.loads each one, count the stages), in the same run.
#
#   scripts/bench-report.sh [CONNECTIONS] [RUNS]     (defaults: 500000 connections, 5 runs)
#
# Makes the capture with scripts/make-capture.py and its records with `sampler classify`
# (both kept in .build/bench between runs), builds the release binary, then times each
# command RUNS times (wall clock, the file in the page cache) and prints the medians, the
# records per second and the ratio. SAMPLER=path times another build of sampler instead
# (an older commit's, for a before and after).
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-500000}
runs=${2:-5}
capture=.build/bench/capture-$connections.pcap
records=.build/bench/records-$connections.jsonl
mkdir -p .build/bench
[ -s "$capture" ] || scripts/make-capture.py "$capture" "$connections"
swift build -c release >/dev/null
built=$(swift build -c release --show-bin-path)/sampler
sampler=${SAMPLER:-$built}
[ -s "$records" ] || "$built" classify "$capture" --location-database none >"$records" 2>/dev/null
python=/usr/bin/python3
loop='import json, sys, collections
stages = collections.Counter()
for line in open(sys.argv[1]):
    stages[json.loads(line)["stage"]] += 1
print(dict(stages))'

cat "$records" >/dev/null  # into the page cache
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc; }

python_times=() sampler_times=()
for _ in $(seq "$runs"); do
  python_times+=("$(seconds "$python" -c "$loop" "$records")")
  sampler_times+=("$(seconds "$sampler" report "$records")")
done
lines=$(wc -l <"$records")
p=$(printf '%s\n' "${python_times[@]}" | median)
s=$(printf '%s\n' "${sampler_times[@]}" | median)
printf 'records: %s (%s lines, %s bytes)\n' "$records" "$lines" "$(stat -c %s "$records")"
printf 'python3 json.loads loop: %.3f s (median of %d; runs: %s)\n' "$p" "$runs" "${python_times[*]}"
printf 'sampler report: %.3f s (median of %d; runs: %s)\n' "$s" "$runs" "${sampler_times[*]}"
printf 'sampler report: %.0f records/s, %.2fx faster than the Python loop\n' "$(echo "$lines / $s" | bc -l)" "$(echo "$p / $s" | bc -l)"
