#!/usr/bin/env bash
# Records Tests/Fixtures/real-nflog.pcap: real connections through the kernel's sampling
# rules (probability 1), as tcpdump writes NFLOG. Needs root; touches only two network
# namespaces it creates and removes. The traffic is the end-to-end test's (Traffic.swift).
set -euo pipefail
out=${1:-Tests/Fixtures/real-nflog.pcap}
c=fixc$$ s=fixs$$ group=4099
traffic=Tests/EndToEndTests/Traffic.swift
py() { sed -n "/static let $1 = #\"\"\"/,/\"\"\"#/p" "$traffic" | sed '1d;$d' | sed 's/^    //'; }
cleanup() { pkill -f "nflog:$group" 2>/dev/null || true; ip netns pids "$s" 2>/dev/null | xargs -r kill 2>/dev/null || true
            ip netns del "$c" 2>/dev/null || true; ip netns del "$s" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$c"; ip netns add "$s"
ip link add "$c" type veth peer name "$s"; ip link set "$c" netns "$c"; ip link set "$s" netns "$s"
ip -n "$c" addr add 10.250.9.1/24 dev "$c"; ip -n "$s" addr add 10.250.9.2/24 dev "$s"
ip -n "$c" addr add fd5a:9::1/64 dev "$c" nodad; ip -n "$s" addr add fd5a:9::2/64 dev "$s" nodad
for ns in "$c" "$s"; do ip -n "$ns" link set "$ns" up; ip -n "$ns" link set lo up; done
for t in iptables ip6tables; do
  ip netns exec "$s" $t -t mangle -A PREROUTING -p tcp --syn -m state --state NEW -m statistic --mode random \
    --probability 1 -m connlabel --label 5 --set 2>/dev/null
  ip netns exec "$s" $t -t mangle -A PREROUTING -m connlabel --label 5 -m connbytes ! --connbytes 11 \
    --connbytes-dir original --connbytes-mode packets -j NFLOG --nflog-group $group --nflog-prefix sampler 2>/dev/null
done
ip netns exec "$s" tcpdump -i nflog:$group -U -w "$out" 2>/dev/null & sleep 1.5
ip netns exec "$s" python3 -c "$(py server)" 10.250.9.2 fd5a:9::2 >/dev/null & sleep 1
ip netns exec "$c" python3 -c "$(py client)" 10.250.9.2 4 41000 closed >/dev/null
ip netns exec "$c" python3 -c "$(py client)" fd5a:9::2 6 43000 closed >/dev/null
sleep 1.5
ip netns exec "$c" python3 -c "$(py client)" 10.250.9.2 4 41000 rest >/dev/null
ip netns exec "$c" python3 -c "$(py client)" fd5a:9::2 6 43000 rest >/dev/null
ip netns exec "$c" nmap -sS -n -Pn --max-retries 0 -g 44000 -p 8080 10.250.9.2 >/dev/null
sleep 1.5
pkill -INT -f "nflog:$group"; sleep 0.5
echo "wrote $out"
