// swift-tools-version: 6.3
import PackageDescription

// Views over borrowed bytes (RawSpan inside ~Escapable structs) need lifetime annotations.
// MemberImportVisibility: a file sees the members of what it imports only, so that a command
// cannot reach the live path through an import in another file of its target.
let lifetimes: [SwiftSetting] = [.enableExperimentalFeature("Lifetimes"), .enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "sampler",
    platforms: [.macOS(.v26)],
    products: [
        .executable(name: "sampler", targets: ["sampler"]),
        .library(name: "SamplerWire", targets: ["SamplerWire"]),
        .library(name: "SamplerClassifier", targets: ["SamplerClassifier"]),
        .library(name: "SamplerSinks", targets: ["SamplerSinks"]),
        .library(name: "SamplerPipeline", targets: ["SamplerPipeline"]),
        .library(name: "SamplerRuntime", targets: ["SamplerRuntime"]),
        .library(name: "SamplerLocation", targets: ["SamplerLocation"]),
        .library(name: "SamplerClickHouse", targets: ["SamplerClickHouse"]),
        .library(name: "SamplerReport", targets: ["SamplerReport"]),
        // Replayable NFLOG input for the benchmarks package (and the tests).
        .library(name: "SamplerTestSupport", targets: ["SamplerTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // The netfilter C headers and libraries (libmnl, libnetfilter_log), behind one module map.
        .systemLibrary(
            name: "CNetfilter",
            providers: [.apt(["libmnl-dev", "libnetfilter-log-dev"])]
        ),
        // The Linux system calls Glibc's module lacks (signalfd, eventfd, prctl). Header only.
        .systemLibrary(name: "CLinux"),
        // The system-call layer: one EINTR retry, errors as Errno values, socket addresses.
        .target(name: "SamplerSystem", dependencies: [.product(name: "SystemPackage", package: "swift-system")]),
        // Threads, wake-ups, rings, clocks and atomic counters: what the threaded parts share.
        .target(name: "SamplerRuntime", dependencies: ["CLinux", "SamplerSystem", "SamplerWire"]),
        // The IPFire location database's C library (AS numbers and countries of addresses).
        .systemLibrary(name: "CLibloc", providers: [.apt(["libloc-dev"])]),
        // Wire parsing: netlink, NFLOG, IPv4/IPv6, TCP, pcap/pcapng. Standard library only.
        .target(name: "SamplerWire", swiftSettings: lifetimes),
        // A cache-line prefetch, the one CPU hint Swift cannot spell. Header only.
        .systemLibrary(name: "CPrefetch"),
        // Connection classification: table, stage and tag rules, finalization, windows.
        .target(name: "SamplerClassifier", dependencies: ["CPrefetch", "SamplerWire"], swiftSettings: lifetimes),
        // Connection records out: JSON Lines, summary tables, the records file, the sink protocol.
        .target(name: "SamplerSinks", dependencies: ["SamplerClassifier", "SamplerSystem", "SamplerWire"], swiftSettings: lifetimes),
        // The NFLOG socket: bind, configure, receive, in front of the wire parser.
        .target(name: "SamplerCapture", dependencies: ["CNetfilter", "SamplerSystem", "SamplerWire"], swiftSettings: lifetimes),
        // The threaded path: NFLOG reader -> classifier shards -> record writer.
        .target(
            name: "SamplerPipeline",
            dependencies: ["SamplerCapture", "SamplerClassifier", "SamplerLocation", "SamplerRuntime", "SamplerSinks", "SamplerSystem", "SamplerWire"],
            swiftSettings: lifetimes
        ),
        // Shipping records to ClickHouse: row format, durable spool, HTTP inserts and queries.
        .target(
            name: "SamplerClickHouse",
            dependencies: ["SamplerRuntime", "SamplerSystem", "SamplerClassifier", "SamplerSinks", "SamplerWire"],
            swiftSettings: lifetimes
        ),
        // Reports of stage shares per window: from records or ClickHouse, as a table or an SVG chart.
        .target(
            name: "SamplerReport",
            dependencies: ["SamplerClickHouse", "SamplerSystem", "SamplerClassifier", "SamplerSinks", "SamplerWire"],
            swiftSettings: lifetimes
        ),
        // AS number, country and AS name of a client address, from the libloc database.
        .target(name: "SamplerLocation", dependencies: ["CLibloc", "CPrefetch", "SamplerClassifier", "SamplerSinks", "SamplerSystem", "SamplerWire"],
                swiftSettings: lifetimes),
        // Starting other programs with a clean signal state (posix_spawn).
        .target(name: "SamplerSubprocess", dependencies: ["SamplerSystem"]),
        // The sampling rules: render, install, check, remove (iptables, ip6tables).
        .target(name: "SamplerRules", dependencies: ["SamplerClassifier", "SamplerSubprocess"], swiftSettings: lifetimes),
        // The settings: each declared once, the configuration file, its checks and its
        // rendering. Offline: no live path (scripts/check-structure.py holds it so).
        .target(
            name: "SamplerConfiguration",
            dependencies: ["SamplerSystem", "SamplerRules", "SamplerClickHouse", "SamplerClassifier", "SamplerSinks", "SamplerWire"],
            swiftSettings: lifetimes
        ),
        // Status and health: the daemon's state as status reports it (JSON and text), the
        // verdicts, and the client that asks the daemon for it.
        .target(
            name: "SamplerStatus",
            dependencies: ["SamplerSystem", "SamplerRules", "SamplerPipeline", "SamplerClickHouse", "SamplerClassifier",
                           "SamplerConfiguration", "SamplerSinks", "SamplerWire", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: lifetimes
        ),
        // The daemon: the live loop (poll, signals, snapshots), the rules' upkeep, the
        // status and metrics servers, the metrics page, systemd notification.
        .target(
            name: "SamplerService",
            dependencies: ["CLinux", "SamplerSystem", "SamplerRuntime", "SamplerRules", "SamplerPipeline", "SamplerClickHouse",
                           "SamplerCapture", "SamplerClassifier", "SamplerConfiguration", "SamplerSinks", "SamplerStatus", "SamplerWire"],
            swiftSettings: lifetimes
        ),
        // The command line: argument parsing, file access, wiring the modules together.
        .executableTarget(
            name: "sampler",
            dependencies: [
                "SamplerSystem", "SamplerRuntime", "SamplerWire", "SamplerClassifier", "SamplerSinks", "SamplerRules", "SamplerPipeline", "SamplerCapture",
                "SamplerConfiguration", "SamplerService", "SamplerStatus", "SamplerClickHouse", "SamplerReport", "SamplerLocation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: lifetimes
        ),
        // Helpers shared by the test targets.
        .target(name: "SamplerTestSupport", dependencies: ["SamplerWire", "SamplerClassifier"], path: "Tests/SamplerTestSupport", swiftSettings: lifetimes),
        .testTarget(name: "SamplerWireTests", dependencies: ["SamplerWire", "CNetfilter", "SamplerTestSupport"], swiftSettings: lifetimes),
        .testTarget(name: "SamplerClassifierTests", dependencies: ["SamplerClassifier", "SamplerTestSupport", "SamplerWire"], swiftSettings: lifetimes),
        .testTarget(name: "SamplerRulesTests", dependencies: ["SamplerRules"]),
        .testTarget(
            name: "SamplerLocationTests",
            dependencies: ["SamplerLocation", "SamplerClassifier", "SamplerSystem", "SamplerWire", "SamplerSubprocess", "SamplerTestSupport"],
            swiftSettings: lifetimes
        ),
        .testTarget(
            name: "SamplerServiceTests",
            dependencies: ["SamplerConfiguration", "SamplerService", "SamplerStatus", "SamplerClickHouse", "SamplerRules", "SamplerPipeline", "SamplerClassifier", "SamplerWire",
                           "SamplerCapture", "SamplerSinks", "SamplerSubprocess", "SamplerSystem"],
            swiftSettings: lifetimes
        ),
        .testTarget(
            name: "SamplerPipelineTests",
            dependencies: ["SamplerPipeline", "SamplerClassifier", "SamplerRuntime", "SamplerSinks", "SamplerWire", "SamplerTestSupport"],
            swiftSettings: lifetimes
        ),
        .testTarget(name: "SamplerRuntimeTests", dependencies: ["SamplerRuntime"]),
        .testTarget(name: "SamplerSinksTests", dependencies: ["SamplerSinks", "SamplerClassifier", "SamplerSystem", "SamplerWire"], swiftSettings: lifetimes),
        .testTarget(
            name: "SamplerClickHouseTests",
            dependencies: ["SamplerClickHouse", "SamplerClassifier", "SamplerSinks", "SamplerTestSupport", "SamplerWire"],
            swiftSettings: lifetimes
        ),
        .testTarget(name: "SamplerReportTests", dependencies: ["SamplerReport", "SamplerClassifier", "SamplerSinks", "SamplerTestSupport"], swiftSettings: lifetimes),
        .testTarget(name: "EndToEndTests", dependencies: ["sampler", "SamplerClassifier", "SamplerSinks", "SamplerSubprocess", "SamplerWire"], swiftSettings: lifetimes),
    ]
)

// The libFuzzer targets beyond the wire parsers (Fuzz/run.sh): only with SAMPLER_FUZZ set,
// because they link against libFuzzer's driver, which only -sanitize=fuzzer provides.
if Context.environment["SAMPLER_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "sampler-fuzz", dependencies: ["SamplerClassifier", "SamplerConfiguration", "SamplerReport", "SamplerService", "SamplerWire"],
        path: "Fuzz/Targets", swiftSettings: lifetimes))
}
