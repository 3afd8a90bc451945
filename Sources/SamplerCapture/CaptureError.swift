import SamplerSystem

/// Why the NFLOG socket could not be set up, with what to do about it.
public enum CaptureError: Error, Equatable, CustomStringConvertible {
    case notPermitted
    case groupInUse(UInt16)
    case kernelSupport(String)
    case system(call: String, Errno)

    public var description: String {
        switch self {
        case .notPermitted:
            "reading NFLOG needs CAP_NET_ADMIN: run as root, or give the binary the capability (setcap cap_net_admin+ep)"
        case .groupInUse(let group):
            "NFLOG group \(group) is already bound by another process (ulogd, tcpdump -i nflog:\(group), another sampler): stop it, or use another --group with matching rules"
        case .kernelSupport(let detail):
            "the kernel has no NFLOG over netlink (\(detail)): load it with 'modprobe nfnetlink_log'"
        case .system(let call, let error):
            "\(call) failed: \(error)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Whether this process holds CAP_NET_ADMIN in its effective set (from /proc/self/status).
public func hasNetAdminCapability() -> Bool {
    guard let file = fopen("/proc/self/status", "r") else { return geteuid() == 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("CapEff:"), let field = text.split(whereSeparator: \.isWhitespace).last,
           let mask = UInt64(field, radix: 16) {
            return mask & (1 << 12) != 0  // CAP_NET_ADMIN is capability 12
        }
    }
    return geteuid() == 0
}

