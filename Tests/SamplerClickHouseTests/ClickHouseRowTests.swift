import SamplerWire
import Foundation
import SamplerClassifier
import SamplerSinks
import Testing
@testable import SamplerClickHouse

@Suite struct ClickHouseRowTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/real-nflog.pcap")

    /// The fixture's records (IPv4 and IPv6, every stage).
    static func records() throws -> [ConnectionRecord] {
        let bytes = try [UInt8](Data(contentsOf: fixture))
        var records: [ConnectionRecord] = []
        _ = CaptureClassification.run(capture: bytes.span.bytes) { records.append($0) }
        return records
    }

    func object(_ line: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
    }

    @Test(arguments: [(ClientAddressPolicy.keep, ["10.250.9.1", "fd5a:9::1"]), (.truncate, ["10.250.9.0", "fd5a:9::"]), (.drop, [""])])
    func clientAddressesLeaveAsThePolicySays(policy: ClientAddressPolicy, sources: [String]) throws {
        let records = try Self.records()
        var seen = Set<String>()
        for (i, record) in records.enumerated() {
            var row: [UInt8] = []
            ClickHouseRow.append(record, context: .init(host: "h-1", clientAddresses: policy), batch: UInt64.max - 1, row: i, to: &row)
            #expect(row.last == UInt8(ascii: "\n") && row.filter { $0 == UInt8(ascii: "\n") }.count == 1)
            let fields = try object(row)
            seen.insert(try #require(fields["src"] as? String))
            // The server's address is never touched; the batch id keeps all 64 bits.
            #expect(fields["dst"] as? String == record.key.destination.text(family: record.key.family))
            #expect(fields["batch_id"] as? UInt64 == UInt64.max - 1 && fields["batch_row"] as? Int == i)
            #expect(fields["host"] as? String == "h-1")
        }
        #expect(seen == Set(sources))
    }

    @Test func aRowIsTheRecordFlattened() throws {
        let record = try #require(try Self.records().first { $0.stage == .postPSH })
        var row: [UInt8] = [], line: [UInt8] = []
        ClickHouseRow.append(record, context: .init(host: "h", clientAddresses: .keep), batch: 7, row: 0, to: &row)
        JSONLines.append(record, to: &line)
        let flat = try object(row), nested = try object(line)
        let syn = try #require(nested["syn"] as? [String: Any])
        #expect(flat["first_seen"] as? String == (nested["first_seen"] as? String).map { String($0.prefix(19)).replacingOccurrences(of: "T", with: " ") })
        #expect((flat["first_seen_usec"] as? Int).map { String(format: ".%06dZ", $0) } == (nested["first_seen"] as? String).map { String($0.suffix(8)) })
        for key in ["family", "sport", "dport", "packets", "payload_bytes"] { #expect(flat[key] as? Int == nested[key] as? Int, "\(key)") }
        for key in ["src", "dst", "close", "stage"] { #expect(flat[key] as? String == nested[key] as? String, "\(key)") }
        for key in ["tags", "flags"] { #expect(flat[key] as? [String] == nested[key] as? [String], "\(key)") }
        for key in ["ttl", "ipid", "window"] { #expect(flat["syn_" + key] as? Int == syn[key] as? Int, "\(key)") }
        #expect(flat["syn_options"] as? [Int] == syn["options"] as? [Int])
    }

    @Test func hostIDsNeedNoEscaping() {
        #expect(ClickHouseRow.isHostID("web-1.example.net") && ClickHouseRow.isHostID("fd00::1") && ClickHouseRow.isHostID("a_b"))
        #expect(!ClickHouseRow.isHostID("") && !ClickHouseRow.isHostID("a\"b") && !ClickHouseRow.isHostID("a b")
                && !ClickHouseRow.isHostID(String(repeating: "a", count: 254)))
    }
}

@Suite struct ClickHouseClientTests {
    @Test func urlsParse() throws {
        let plain = try ClickHouseTarget(url: "http://ch.example.net")
        #expect(plain.host == "ch.example.net" && plain.port == 8123 && plain.path == "/")
        let v6 = try ClickHouseTarget(url: "http://[::1]:9123/proxy/", database: "db_1", table: "t")
        #expect(v6.host == "::1" && v6.port == 9123 && v6.path == "/proxy/" && v6.display == "http://[::1]:9123/proxy/ db_1.t")
        #expect(throws: ClickHouseTarget.InvalidTarget.self) { try ClickHouseTarget(url: "http://h", table: "x; DROP") }
        #expect(throws: ClickHouseTarget.InvalidTarget.self) { try ClickHouseTarget(url: "http://h", database: "1db") }
        #expect(throws: ClickHouseTarget.InvalidTarget.self) { try ClickHouseTarget(url: "http://h", user: "a:b") }
        // Several servers, tried in order.
        let two = try ClickHouseTarget(url: "http://a:8124, http://[::1]/p")
        #expect(two.servers == [.init(host: "a", port: 8124, path: "/"), .init(host: "::1", port: 8123, path: "/p")])
        #expect(two.host == "a" && two.display == "http://a:8124,http://[::1]:8123/p sampler.connections")
        #expect(throws: ClickHouseTarget.InvalidTarget.self) { try ClickHouseTarget(url: "http://a,") }
        #expect(throws: ClickHouseTarget.InvalidTarget.self) { try ClickHouseTarget(url: "http://a,ftp://b") }
    }

    @Test func whenNoneOfSeveralServersCanBeReachedItSaysHowMany() {
        let client = ClickHouseClient(target: try! ClickHouseTarget(url: "http://127.0.0.1:1,http://127.0.0.1:2"), timeoutSeconds: 2)
        #expect { try client.insert(Array("{}\n".utf8)) } throws: { error in
            "\(error)".hasPrefix("none of the 2 ClickHouse servers could be reached (the last: cannot connect to ClickHouse at 127.0.0.1:2")
        }
    }

    @Test func responsesParsePlainAndChunked() throws {
        let plain = try HTTPExchange.parse(Array("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOk.".utf8))
        #expect(plain.status == 200 && plain.body == Array("Ok.".utf8))
        let chunked = try HTTPExchange.parse(Array("HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nCode:\r\n4;x=y\r\n 60.\r\n0\r\n\r\n".utf8))
        #expect(chunked.status == 500 && String(decoding: chunked.body, as: UTF8.self) == "Code: 60.")
        #expect(throws: ClickHouseError.badResponse("the server closed the connection without answering")) { try HTTPExchange.parse([]) }
        #expect(throws: ClickHouseError.self) { try HTTPExchange.parse(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)) }
        #expect(throws: ClickHouseError.badResponse("chunked body cut short")) {
            try HTTPExchange.parse(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort".utf8))
        }
    }

    @Test func encodings() {
        #expect(Base64.encode(Array("sampler:s3cret".utf8)) == "c2FtcGxlcjpzM2NyZXQ=")
        #expect(Base64.encode(Array("ab".utf8)) == "YWI=" && Base64.encode([]) == "")
        #expect(ClickHouseClient.percentEncoded("INSERT INTO `a`.`b` FORMAT JSONEachRow") == "INSERT%20INTO%20%60a%60.%60b%60%20FORMAT%20JSONEachRow")
    }

    @Test func aRefusedConnectionSaysWhatToCheck() {
        // Port 1 on loopback: nothing listens there.
        let client = ClickHouseClient(target: try! ClickHouseTarget(url: "http://127.0.0.1:1"), timeoutSeconds: 2)
        #expect { try client.insert(Array("{}\n".utf8)) } throws: { error in
            "\(error)" == "cannot connect to ClickHouse at 127.0.0.1:1: Connection refused (is clickhouse-server running, and is its http_port this one?)"
        }
    }
}
