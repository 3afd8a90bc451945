#!/usr/bin/env bash
# The live benchmark (docs/benchmarks.md): new TCP connections offered through the real
# kernel at increasing rates, with the sampling rules at probability 1, consumed in turn
# by sampler (records to /dev/null, and to a file), by ulogd2 (NFLOG input, JSON output to
# a file) and by tcpdump -i nflog:G (to /dev/null, and to a file). For each consumer and
# rate it prints what the kernel logged (the logging rule's counter), what the consumer
# received, what was lost, and the consumer's CPU time per packet.
#
#   scripts/bench-live.sh [PACKETS_PER_RATE]      (as root; default 50000)
#   scripts/bench-live.sh memory                  resident memory per open connection
#
#   RATES="trafgen" CONSUMERS="sampler-file tcpdump-file" scripts/bench-live.sh 400000
#                                                 some rates and consumers only
#   RATES="trafgen@60000" ...                     trafgen paced at 60,000 packets a second:
#                                                 the CPU per packet depends on the rate (how
#                                                 many packets each wake-up finds), so builds
#                                                 compare best at one rate all can take
#   SAMPLER=/path/to/sampler scripts/bench-live.sh  another build (before and after)
#   PERF=/tmp/live.data scripts/bench-live.sh ...   also profile sampler (perf record, while
#                                                 it consumes; perf report --sort pid,sym)
#   PIN=1 scripts/bench-live.sh ...                the sender on CPU 0, the consumer (all its
#                                                 threads) on CPU 1: this kernel has no
#                                                 IRQ_TIME_ACCOUNTING, so receive work done in
#                                                 softirqs is billed to whichever task runs on
#                                                 that CPU; pinned, the consumer's CPU is its own
#
# It works inside two network namespaces of its own (removed on exit) and never touches
# the host's firewall or its global settings (trafgen runs with --no-sock-mem and
# --notouch-irq). Rates are hping3 intervals, u100 (~10k/s), u20, u10 and flood (every
# packet a new connection from a random source), then trafgen: PACKETS_PER_RATE SYNs from
# random sources and ports, as fast as one core sends them (65 to 210 thousand a second
# on the project's machine, by the day), or at trafgen@N's pace. Without SAMPLER, the
# release binary is built first (`swift build -c release`, quietly). sampler uses the
# location database if there is one (as it does by default). A run in which the kernel
# logged nothing (the sender failed) is said on standard error, and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=rates
if [ "${1:-}" = memory ]; then mode=memory; shift; fi
count=${1:-50000}
[ "$(id -u)" -eq 0 ] || { echo "bench-live.sh: needs root (namespaces, iptables)" >&2; exit 1; }
for tool in hping3 trafgen ulogd tcpdump ip iptables python3; do
  command -v "$tool" >/dev/null || { echo "bench-live.sh: $tool missing: apt-get install -y hping3 netsniff-ng ulogd2 ulogd2-json tcpdump iproute2 iptables python3" >&2; exit 1; }
done
rates=${RATES:-u100 u20 u10 flood trafgen}
for rate in $rates; do
  case $rate in
    trafgen@*) [[ ${rate#trafgen@} =~ ^[1-9][0-9]*$ ]] \
      || { echo "bench-live.sh: RATES: '$rate' is not trafgen@N with N packets a second (a whole number, e.g. trafgen@60000)" >&2; exit 2; } ;;
  esac
done
consumers=${CONSUMERS:-sampler sampler-file ulogd2 tcpdump tcpdump-file}
if [ -n "${SAMPLER:-}" ]; then
  sampler=$SAMPLER  # another build, for a before and after
else
  swift build -c release >/dev/null
  sampler=$(swift build -c release --show-bin-path)/sampler
fi

ns=splive$$
client=${ns}c server=${ns}s group=5099
dir=$(mktemp -d /tmp/sampler-bench-live.XXXXXX)
consumer_pid=

cleanup() {
  [ -n "$consumer_pid" ] && kill "$consumer_pid" 2>/dev/null || true
  ip netns del "$client" 2>/dev/null || true
  ip netns del "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

in_server() { ip netns exec "$server" "$@"; }
# With PIN, what the consumer and the sender run under (taskset, util-linux).
consumer_cpu=() sender_cpu=()
if [ -n "${PIN:-}" ]; then consumer_cpu=(taskset -c 1) sender_cpu=(taskset -c 0); fi
ip netns add "$client"
ip netns add "$server"
ip link add "$client" type veth peer name "$server"
ip link set "$client" netns "$client"
ip link set "$server" netns "$server"
ip -n "$client" addr add 10.251.0.1/24 dev "$client"
ip -n "$server" addr add 10.251.0.2/24 dev "$server"
for n in "$client" "$server"; do ip -n "$n" link set "$n" up; ip -n "$n" link set lo up; done
# The server's RSTs go back out (and die in the client namespace), so that conntrack sees
# each connection close; short timeouts keep its table, shared by the host, small.
ip -n "$server" route add default via 10.251.0.1
in_server sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=1 net.netfilter.nf_conntrack_tcp_timeout_syn_sent=2 2>/dev/null || true
in_server "$sampler" rules install --probability 1 --group "$group" --family 4 >/dev/null

# CPU time of a process and all its threads, in nanoseconds (schedstat: time on CPU).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'; }
logged() { in_server iptables -w -t mangle -L SAMPLER -v -x -n 2>/dev/null | awk 'NR == 4 { print $1 }'; }

# trafgen's packet: Ethernet to the server's veth, IPv4 and TCP SYN from a random source
# address, port and sequence number to port 9, checksums computed per packet.
mac() { ip -n "$1" -o link show "$1" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2 | sed 's/:/, 0x/g; s/^/0x/'; }
cat >"$dir/syn.cfg" <<EOF
{
  $(mac "$server"), $(mac "$client"), 0x08, 0x00,
  0x45, 0x00, const16(40), drnd(2), 0x40, 0x00, 64, 6, csumip(14, 33), drnd(4), 10, 251, 0, 2,
  drnd(2), const16(9), drnd(4), const32(0), 0x50, 0x02, const16(65535), csumtcp(14, 34), const16(0),
}
EOF

start_consumer() {
  case "$1" in
    sampler|sampler-file)
      local output=/dev/null; [ "$1" = sampler-file ] && output=$dir/records.jsonl
      rm -f "$dir/records.jsonl"
      ip netns exec "$server" "${consumer_cpu[@]}" "$sampler" run --group "$group" --output "$output" --status-socket "$dir/status.sock" \
        --metrics none --idle-timeout 1 >"$dir/sampler.log" 2>&1 &
      consumer_pid=$!
      for _ in $(seq 100); do grep -q "reading NFLOG" "$dir/sampler.log" && break; sleep 0.05; done
      if [ -n "${PERF:-}" ]; then perf record -q -F 2000 -p "$consumer_pid" -o "$PERF" 2>/dev/null & perf_pid=$!; fi ;;
    ulogd2)
      cat >"$dir/ulogd.conf" <<EOF
[global]
logfile="$dir/ulogd.log"
loglevel=5
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_inppkt_NFLOG.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_raw2packet_BASE.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_IFINDEX.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_IP2STR.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_filter_HWHDR.so"
plugin="/usr/lib/x86_64-linux-gnu/ulogd/ulogd_output_JSON.so"
stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,mac2str1:HWHDR,json1:JSON
[log1]
group=$group
netlink_socket_buffer_size=4194304
netlink_socket_buffer_maxsize=67108864
[json1]
sync=0
file="$dir/ulogd.json"
EOF
      : >"$dir/ulogd.json"
      ip netns exec "$server" "${consumer_cpu[@]}" ulogd -c "$dir/ulogd.conf" &
      consumer_pid=$!
      sleep 1 ;;
    tcpdump|tcpdump-file)
      local output=/dev/null; [ "$1" = tcpdump-file ] && output=$dir/nflog.pcap
      ip netns exec "$server" "${consumer_cpu[@]}" tcpdump -q -B 4096 -i "nflog:$group" -w "$output" 2>"$dir/tcpdump.log" &
      consumer_pid=$!
      sleep 1 ;;
  esac
}

# Stops the consumer; sets `received` and `lost` (run in this shell, so that `wait`
# waits for the consumer to finish writing).
stop_consumer() {
  case "$1" in
    sampler|sampler-file)
      local json
      json=$(in_server "$sampler" status --json --status-socket "$dir/status.sock" --skip-rules) || true
      read -r received lost < <(python3 -c 'import json,sys; d=json.load(sys.stdin)["daemon"]; print(d["messages"], d["lost"] + d["ring_drops"])' <<<"$json")
      if [ -n "${perf_pid:-}" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=; fi
      kill -TERM "$consumer_pid"; wait "$consumer_pid" || true ;;
    ulogd2)
      kill -TERM "$consumer_pid"; wait "$consumer_pid" || true
      received=$(wc -l <"$dir/ulogd.json"); lost=- ;;
    tcpdump|tcpdump-file)
      kill -INT "$consumer_pid"; wait "$consumer_pid" || true
      received=$(awk '/packets captured/ { print $1 }' "$dir/tcpdump.log"); lost=- ;;
  esac
  consumer_pid=
}

if [ "$mode" = memory ]; then
  # Resident memory per open connection: the same SYN flood (70,000 connections from
  # random sources, kept open by a 10-minute idle timeout) into a table of 65,536 and into
  # a table of 1; the difference, over 65,536, is what an open connection costs
  # (the table's slot, its share of the preallocated index, its deadline entry).
  resident() {
    ip netns exec "$server" "$sampler" run --group "$group" --output /dev/null --status-socket "$dir/status.sock" \
      --metrics none --idle-timeout 600 --max-connections "$1" --shards 1 >"$dir/sampler.log" 2>&1 &
    consumer_pid=$!
    sleep 1
    ip netns exec "$client" hping3 -q -S -p 9 --rand-source -i u10 -c 70000 10.251.0.2 >/dev/null 2>&1 || true
    sleep 2
    local json open
    # status exits 1 (WARNING) here: the full table evicted connections.
    json=$(in_server "$sampler" status --json --status-socket "$dir/status.sock" --skip-rules) || true
    open=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["daemon"]["open_connections"] if d.get("daemon") else sys.exit("status: " + str(d.get("daemon_error"))))' <<<"$json")
    echo "$(awk '/VmRSS/ { print $2 }' /proc/"$consumer_pid"/status) $open"
    kill -TERM "$consumer_pid"; wait "$consumer_pid" || true
    consumer_pid=
    sleep 3
  }
  # $(...) waits for the whole function (a process substitution would not).
  result=$(resident 65536); read -r full full_open <<<"$result"
  result=$(resident 1); read -r empty empty_open <<<"$result"
  echo "table of 65536: $full_open open, $full KiB resident; table of 1: $empty_open open, $empty KiB resident"
  python3 -c "print(f'{($full - $empty) * 1024 / ($full_open - $empty_open):.0f} bytes per open connection')"
  exit 0
fi

printf '| consumer | interval | offered (connections/s) | kernel logged | received | lost (gaps + ring drops) | not received | CPU per packet |\n'
printf '|---|---|---|---|---|---|---|---|\n'
sender_failed=0
for interval in $rates; do
  for consumer in $consumers; do
    # Each consumer starts with nothing of an earlier run's output waiting to be written
    # back: the kernel's writeback of hundreds of MB written before made the next file
    # writer's own writes dearer (tcpdump -w FILE: 1.0 µs a packet alone, 1.6 after the
    # others), so the earlier outputs go and what is dirty is written first.
    rm -f "$dir/records.jsonl" "$dir/ulogd.json" "$dir/nflog.pcap"
    sync
    sleep 3  # the previous run's conntrack entries expire
    in_server iptables -w -t mangle -Z SAMPLER 2>/dev/null
    start_consumer "$consumer"
    before=$(cpu_ns "$consumer_pid")
    rate_args=(-i "$interval"); [ "$interval" = flood ] && rate_args=(--flood)
    t0=$(date +%s.%N)
    if [ "${interval%%@*}" = trafgen ]; then
      # trafgen@N: N packets a second, the same for every build and consumer.
      pace=(); [ "$interval" != trafgen ] && pace=(-b "${interval#trafgen@}pps")
      ip netns exec "$client" "${sender_cpu[@]}" trafgen --no-sock-mem --notouch-irq -P 1 -n "$count" "${pace[@]}" --dev "$client" --conf "$dir/syn.cfg" >/dev/null 2>&1 || true
    elif [ "$interval" = flood ]; then
      # --flood ignores -c: let it run for 2 seconds.
      ip netns exec "$client" "${sender_cpu[@]}" timeout -s INT 2 \
        hping3 -q -S -p 9 --rand-source --flood 10.251.0.2 >/dev/null 2>&1 || true
    else
      ip netns exec "$client" "${sender_cpu[@]}" hping3 -q -S -p 9 --rand-source "${rate_args[@]}" -c "$count" 10.251.0.2 >/dev/null 2>&1 || true
    fi
    t1=$(date +%s.%N)
    sleep 2  # let the consumer drain
    after=$(cpu_ns "$consumer_pid")
    kernel=$(logged)
    stop_consumer "$consumer"
    python3 - "$consumer" "$interval" "$kernel" "$received" "$lost" "$before" "$after" "$t0" "$t1" <<'EOF'
import sys
consumer, interval, kernel, received, lost, before, after, t0, t1 = sys.argv[1:]
kernel, received = int(kernel), int(received)
offered = kernel / (float(t1) - float(t0))
cpu = (int(after) - int(before)) / max(received, 1) / 1000
missing = kernel - received
print(f"| {consumer} | {interval} | {offered:,.0f} | {kernel:,} | {received:,} | {lost} | {missing:,} ({100 * missing / max(kernel, 1):.1f}%) | {cpu:.2f} µs |")
EOF
    if [ "$kernel" -eq 0 ]; then
      echo "bench-live.sh: the kernel logged nothing for $consumer at $interval: the sender failed (its output is not shown; run it by hand)" >&2
      sender_failed=1
    fi
  done
done
exit "$sender_failed"
