import Foundation
import SamplerSubprocess
import Testing

/// The Prometheus alerting rules the package ships: promtool accepts them, and each fires
/// on the series that should raise it and stays quiet on a healthy host
/// (prometheus/sampler-alerts.test.yml). StatusTests checks that every metric they use is
/// on a real daemon's page.
@Suite struct AlertRulesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("prometheus")

    @Test(.enabled(if: Subprocess.find("promtool") != nil, "needs promtool (Debian's prometheus package; scripts/test installs it)"))
    func promtoolChecksAndTestsTheRules() throws {
        let check = try Subprocess.run(["promtool", "check", "rules", Self.directory.appendingPathComponent("sampler-alerts.yml").path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 9 rules found"), "\(check.stdout)")
        let test = try Subprocess.run(["promtool", "test", "rules", Self.directory.appendingPathComponent("sampler-alerts.test.yml").path])
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("SUCCESS"), "\(test.stdout)")
    }

    /// The sampler metrics the rules use, by name.
    static func metricsUsed() throws -> Set<String> {
        let text = try String(contentsOf: directory.appendingPathComponent("sampler-alerts.yml"), encoding: .utf8)
        let expression = try NSRegularExpression(pattern: #"sampler_[a-z_]+"#)
        let range = NSRange(text.startIndex..., in: text)
        return Set(expression.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
    }
}
