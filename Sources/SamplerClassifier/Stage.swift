/// Where in its life a connection that ended by reset or timeout stopped.
public enum Stage: UInt8, CaseIterable, Sendable, Comparable {
    case postSYN, postACK, postPSH, later, none

    /// The name in records and reports.
    public var name: String { "\(staticName)" }

    public var staticName: StaticString {
        switch self {
        case .postSYN: "post_syn"
        case .postACK: "post_ack"
        case .postPSH: "post_psh"
        case .later: "later"
        case .none: "none"
        }
    }

    public static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
}

/// How a connection was finalized.
public enum CloseReason: UInt8, CaseIterable, Sendable {
    case reset, fin, cap, timeout, shutdown

    /// The name in records and reports.
    public var name: String { "\(staticName)" }

    public var staticName: StaticString {
        switch self {
        case .reset: "reset"
        case .fin: "fin"
        case .cap: "cap"
        case .timeout: "timeout"
        case .shutdown: "shutdown"
        }
    }
}
