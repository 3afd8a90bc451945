/// Why a packet or message could not be parsed. One flat list so that a consumer can keep
/// one counter per reason (`rawValue` indexes an array) and report them by name.
public enum WireError: UInt8, Error, CaseIterable, Sendable {
    // netlink and NFLOG
    case netlinkTruncated
    case netlinkBadLength
    case netlinkNotNflogPacket
    case attributeTruncated
    case attributeBadLength
    case nflogNoPayload
    case nflogBadAttribute
    // link layer (capture files)
    case linkTruncated
    case linkNotIP
    case unsupportedLinkType
    // IP
    case ipTruncated
    case ipBadVersion
    case ipv4BadHeaderLength
    case ipv4BadTotalLength
    case ipv6BadPayloadLength
    case ipv6ExtensionTruncated
    case ipv6TooManyExtensions
    case nonFirstFragment
    case notTCP
    // TCP
    case tcpTruncated
    case tcpBadHeaderLength
    case tcpOptionTruncated
    case tcpOptionBadLength

    /// A stable snake_case name for logs, JSON and metric labels.
    public var name: String {
        switch self {
        case .netlinkTruncated: "netlink_truncated"
        case .netlinkBadLength: "netlink_bad_length"
        case .netlinkNotNflogPacket: "netlink_not_nflog_packet"
        case .attributeTruncated: "attribute_truncated"
        case .attributeBadLength: "attribute_bad_length"
        case .nflogNoPayload: "nflog_no_payload"
        case .nflogBadAttribute: "nflog_bad_attribute"
        case .linkTruncated: "link_truncated"
        case .linkNotIP: "link_not_ip"
        case .unsupportedLinkType: "unsupported_link_type"
        case .ipTruncated: "ip_truncated"
        case .ipBadVersion: "ip_bad_version"
        case .ipv4BadHeaderLength: "ipv4_bad_header_length"
        case .ipv4BadTotalLength: "ipv4_bad_total_length"
        case .ipv6BadPayloadLength: "ipv6_bad_payload_length"
        case .ipv6ExtensionTruncated: "ipv6_extension_truncated"
        case .ipv6TooManyExtensions: "ipv6_too_many_extensions"
        case .nonFirstFragment: "non_first_fragment"
        case .notTCP: "not_tcp"
        case .tcpTruncated: "tcp_truncated"
        case .tcpBadHeaderLength: "tcp_bad_header_length"
        case .tcpOptionTruncated: "tcp_option_truncated"
        case .tcpOptionBadLength: "tcp_option_bad_length"
        }
    }
}

/// Parse errors counted by reason, with no allocation after creation.
public struct WireErrorCounts: Sendable, Equatable {
    private var counts = [UInt64](repeating: 0, count: WireError.allCases.count)

    public init() {}

    public mutating func record(_ error: WireError) { counts[Int(error.rawValue)] &+= 1 }

    public mutating func add(_ error: WireError, _ count: UInt64) { counts[Int(error.rawValue)] &+= count }

    public subscript(error: WireError) -> UInt64 { counts[Int(error.rawValue)] }

    public var total: UInt64 { counts.reduce(0, &+) }

    /// The reasons seen at least once, with their counts, in declaration order.
    public var nonZero: [(WireError, UInt64)] {
        WireError.allCases.compactMap { counts[Int($0.rawValue)] > 0 ? ($0, counts[Int($0.rawValue)]) : nil }
    }
}
