/// Python programs for the real TCP peers. The server answers every chunk it receives
/// with "ok\n"; the client plays named scenarios, each from its own source port so that
/// the test can find each connection in the records.
enum Traffic {
    static let server = #"""
    import socket, sys, threading
    def serve(family, address):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((address, 8080)); s.listen(64)
        while True:
            c, _ = s.accept()
            threading.Thread(target=handle, args=(c,), daemon=True).start()
    def handle(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = c.recv(4096)
                if not data: break
                c.sendall(b"ok\n")
        except OSError:
            pass
        c.close()
    threading.Thread(target=serve, args=(socket.AF_INET, sys.argv[1]), daemon=True).start()
    threading.Thread(target=serve, args=(socket.AF_INET6, sys.argv[2]), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()
    """#

    static let client = #"""
    import socket, struct, sys, time
    server, family, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    def connect(sport, port=8080):
        s = socket.socket(af, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.bind(("", sport))
        s.connect((server, port))
        return s
    def exchange(s, n):
        for i in range(n):
            s.sendall(b"request %d\n" % i)
            s.recv(100)
    def abort(s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    scenario = sys.argv[4]
    if scenario == "closed":          # SYN to a closed port: the server's RST is not logged
        try: connect(base + 0, port=9)
        except ConnectionRefusedError: pass
    elif scenario == "rest":
        s = connect(base + 1); exchange(s, 1); s.shutdown(socket.SHUT_WR); s.recv(100); s.close()  # FIN close
        s = connect(base + 2); time.sleep(0.05); abort(s)                    # abort before data
        s = connect(base + 3); exchange(s, 1); abort(s)                      # abort after data
        s = connect(base + 4); exchange(s, 2); abort(s)                      # two requests, then abort
        s = connect(base + 5); exchange(s, 12); s.close()                    # long exchange
        time.sleep(0.2)
    print("done", flush=True)
    """#
}

extension Traffic {
    /// A client behind an on-path middlebox that tampers as the study's ⟨PSH+ACK → RST;RST₀⟩
    /// describes: when the client's first data packet passes, it injects two RSTs towards
    /// the server in the client's name, in sequence (so conntrack and the server take
    /// them), one with acknowledgement number 0 and one with the client's, from a stack
    /// of its own: IP IDs 30,000 from the client's and TTL (hop limit) 200 where the
    /// client's is 64. Arguments: interface, server, family, source port.
    static let injectingClient = #"""
    import logging, socket, sys, time
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import AsyncSniffer, IP, IPv6, TCP, send
    iface, server, family, sport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    def inject(p):
        tcp = p[TCP]
        if not (tcp.flags & 0x08) or inject.done: return   # the first PSH+ACK only
        inject.done = True
        seq = tcp.seq + len(tcp.payload)
        for n, ack in enumerate([0, tcp.ack]):
            ip = IP(src=p[IP].src, dst=p[IP].dst, ttl=200, id=(p[IP].id + 30000 + n) & 0xFFFF) if family == 4 \
                else IPv6(src=p[IPv6].src, dst=p[IPv6].dst, hlim=200)
            send(ip / TCP(sport=tcp.sport, dport=tcp.dport, flags="R", seq=seq, ack=ack), verbose=False)
    inject.done = False
    sniffer = AsyncSniffer(iface=iface, filter=f"tcp and src port {sport}", prn=inject, store=False)
    sniffer.start()
    time.sleep(1)   # the sniffer is listening
    s = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind(("", sport))
    s.connect((server, 8080))
    s.sendall(b"request 0\n")
    time.sleep(2.5)  # past the grace period: what the client sends now is an orphan
    sniffer.stop()
    print("done" if inject.done else "no data packet seen", flush=True)
    """#
}
