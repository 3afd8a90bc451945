import Foundation
import Testing
@testable import SamplerConfiguration
@testable import SamplerService
@testable import SamplerStatus

@Suite struct ConntrackTests {
    /// A procfs of our own: the two sysctls and the per-CPU table, as the kernel writes them.
    func proc(entries: Int, maximum: Int, drops: [Int]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-conntrack-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sys/net/netfilter"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("net/stat"), withIntermediateDirectories: true)
        try "\(entries)\n".write(to: root.appendingPathComponent("sys/net/netfilter/nf_conntrack_count"), atomically: true, encoding: .utf8)
        try "\(maximum)\n".write(to: root.appendingPathComponent("sys/net/netfilter/nf_conntrack_max"), atomically: true, encoding: .utf8)
        var table = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
        for drop in drops {
            table += "000000\(String(format: "%02x", entries))  00000000 00000000 00000010 00000000 00000000 00000000 00000000 00000000 00000001 \(String(format: "%08x", drop)) 00000002 00000000  00000000 00000000 00000000 00000000\n"
        }
        try table.write(to: root.appendingPathComponent("net/stat/nf_conntrack"), atomically: true, encoding: .utf8)
        return root
    }

    @Test func readsTheTableAndSumsTheCPUs() throws {
        let root = try proc(entries: 5, maximum: 262_144, drops: [0x10, 0x1f])
        defer { try? FileManager.default.removeItem(at: root) }
        let reading = try #require(Conntrack.read(proc: root.path))
        #expect(reading == Conntrack(entries: 5, maximum: 262_144, drops: 0x2f, earlyDrops: 4, insertFailures: 2))
        // Dropped and not inserted are lost; early drops are evicted, apart.
        #expect(reading.lost(since: Conntrack(entries: 0, maximum: 0)) == 0x2f + 2)
        #expect(reading.evicted(since: Conntrack(entries: 0, maximum: 0, earlyDrops: 1)) == 3)
        #expect(Conntrack.read(proc: "/nonexistent") == nil)
    }

    /// New drops count from the start of the last window: polled as status and Prometheus
    /// do, a burst warns in the window it came in and the next, then no more.
    @Test func newLossesAreTheCurrentAndLastWindows() throws {
        let root = try proc(entries: 5, maximum: 100, drops: [3])
        let burst = try proc(entries: 99, maximum: 100, drops: [10])
        defer {
            try? FileManager.default.removeItem(at: root)
            try? FileManager.default.removeItem(at: burst)
        }
        let minute: Int64 = 60_000_000
        let watch = ConntrackWatch(windowLength: minute, proc: root.path, now: 0)
        #expect(watch.observe(now: minute + 1)?.newLosses == 0)
        try FileManager.default.removeItem(at: root)
        try FileManager.default.copyItem(at: burst, to: root)  // 7 more drops
        #expect(watch.observe(now: minute + 2)?.newLosses == 7)
        #expect(watch.observe(now: 2 * minute + 1)?.newLosses == 7)
        #expect(watch.observe(now: 3 * minute + 1)?.newLosses == 0)
    }

    @Test func aNearlyFullTableAndNewDropsWarnWithTheSysctl() {
        var report = StatusReport(sampleSnapshot(lost: 0), version: "test")
        report.rules = nil
        report.conntrack = Conntrack(entries: 10, maximum: 100)
        report.conntrackNewLosses = 0
        #expect(judge(report).state == .ok)
        report.conntrack = Conntrack(entries: 95, maximum: 100)
        #expect(judge(report).problems.first?.hasPrefix("conntrack's table is 95.00% full (95 of 100)") == true)
        #expect(judge(report).problems.first?.contains("host-wide (sysctl -w net.netfilter.nf_conntrack_max=200 in the host's own namespace)") == true)
        // Early drops were tracked (and perhaps sampled): they are not "never sampled".
        report.conntrackNewEvictions = 3
        #expect(judge(report).state == .warning)
        #expect(judge(report).problems.first?.hasPrefix("conntrack evicted 3 connections not yet answered") == true)
        #expect(judge(report).problems.first?.contains("not in the sample") == false)
        report.conntrackNewLosses = 12
        #expect(judge(report).state == .warning)
        #expect(judge(report).problems.first?.hasPrefix("conntrack dropped or could not track 12 connections") == true)
    }

    func judge(_ report: StatusReport) -> Health {
        Health.judge(daemon: .success(report), rules: RulesCheck(checked: false), settings: Settings(), thresholds: HealthThresholds())
    }
}
