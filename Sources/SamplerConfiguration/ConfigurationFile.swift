import SamplerClickHouse
import SamplerSinks
import SamplerRules

/// A configuration error: the key, the value, what is allowed, and where.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var key: String
    public var value: String
    public var allowed: String
    public var location: String?

    public init(key: String, value: String, allowed: String, location: String? = nil) {
        self.key = key
        self.value = value
        self.allowed = allowed
        self.location = location
    }

    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        if key == "rules" { return place + allowed }
        // A line that is no setting at all: the line as it is.
        if key.isEmpty { return "\(place)'\(Self.printable(value))': \(allowed)" }
        let (key, value) = (Self.printable(key), Self.printable(value))
        // From a file: the file, the line and the key. Otherwise the key and its option.
        guard location == nil, ConfigurationFile.keys.contains(key) else { return "\(place)\(key) = \(value): \(allowed)" }
        let flag = "--" + key.split(separator: "_").joined(separator: "-")
        return "\(key) = \(value) (\(flag)): \(allowed)"
    }

    /// The text with control characters, invisible ones (a byte-order mark, zero-width
    /// spaces) and other unprintable bytes as \xNN or \u{NNNN}, so that a binary file given
    /// as the configuration does not write raw bytes to a terminal and nothing in an error
    /// is invisible.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            let category = scalar.properties.generalCategory
            if category == .control || category == .format || category == .lineSeparator || category == .paragraphSeparator
                || scalar == "\u{FFFD}" {
                out += scalar.value < 0x100 ? "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2) : "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.count > 80 ? String(out.prefix(80)) + "..." : out
    }
}

/// The configuration file: one `key = value` per line; `#` starts a comment; blank
/// lines are ignored; keys are the long option names with `_` for `-`
/// (docs/operations.md lists them). An unknown key is an error, not a silent default.
public enum ConfigurationFile {
    /// Every key, in the order `render` writes them.
    public static var keys: [String] { Setting.all.map(\.key) }

    /// The longest line a file may have.
    public static let maximumLineBytes = 4096

    /// Reads `text` over `base`; `source` names the file in errors. Lines end in LF or
    /// CRLF (a file edited on Windows reads the same); a UTF-8 byte-order mark at the start
    /// is skipped; a line longer than `maximumLineBytes` is an error.
    public static func parse(_ text: String, source: String, over base: Settings = Settings()) throws(ConfigurationError) -> Settings {
        var settings = base
        var lines: [String: Int] = [:]  // where each key was set
        // By bytes, not Characters: Swift takes "\r\n" as one Character, which a split on
        // "\n" would not see.
        var bytes = Substring(text).utf8[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        for (index, lineBytes) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let location = "\(source):\(index + 1)"
            var content = lineBytes
            if content.last == UInt8(ascii: "\r") { content = content.dropLast() }
            guard content.count <= maximumLineBytes else {
                throw ConfigurationError(key: "rules", value: "", allowed: "the line is longer than \(maximumLineBytes) bytes: not a configuration file?",
                                         location: location)
            }
            let uncommented = Self.withoutComment(Substring(content))
            let line = uncommented.trimmed
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(key: "", value: String(line), allowed: "expected 'key = value'", location: location)
            }
            let key = line[..<equals].trimmed, value = line[line.index(after: equals)...].trimmed
            guard !key.isEmpty else {
                throw ConfigurationError(key: "", value: String(line), allowed: "expected 'key = value': there is no key before '='", location: location)
            }
            if let quote = value.first, quote == "\"" || quote == "'", value.count < 2 || value.last != quote {
                // A ' #' ends the line even inside quotes: say so when it cut the value.
                let comment = uncommented.count < content.count ? " (' #' starts a comment, inside quotes too)" : ""
                throw ConfigurationError(key: String(key), value: String(value),
                                         allowed: "the value starts with a quote (\(quote)) but does not end with one\(comment): "
                                            + "quote the whole value, or leave the quotes out",
                                         location: location)
            }
            if let first = lines[String(key)] {
                throw ConfigurationError(key: String(key), value: String(value), allowed: "set twice, on lines \(first) and \(index + 1): keep one",
                                         location: location)
            }
            lines[String(key)] = index + 1
            try set(String(key), to: String(value.unquoted), in: &settings, at: location)
        }
        return settings
    }

    /// A `#` at the start of a line or after a space starts a comment; elsewhere it is
    /// part of the value (`output = /srv/records#1.jsonl`).
    static func withoutComment(_ line: Substring) -> Substring {
        var previous: Character? = nil
        for index in line.indices {
            if line[index] == "#" && (previous == nil || previous!.isWhitespace) { return line[..<index] }
            previous = line[index]
        }
        return line
    }

    /// Sets one key; shared by the file and by command-line overrides.
    public static func set(_ key: String, to value: String, in settings: inout Settings, at location: String? = nil) throws(ConfigurationError) {
        guard let setting = Setting.named(key) else {
            throw ConfigurationError(key: key, value: value, allowed: "unknown key; the keys are: \(keys.joined(separator: ", "))", location: location)
        }
        try setting.set(value, in: &settings, at: location)
    }

    /// The settings in the file's format, every key, for `sampler config check` and as
    /// the installed default file.
    public static func render(_ settings: Settings) -> String {
        Setting.all.map { "\($0.key) = \(quotedIfNeeded($0.value(in: settings)))" }.joined(separator: "\n") + "\n"
    }

    /// The file the package installs as /etc/sampler/sampler.conf (systemd/sampler.conf,
    /// kept equal to this by a test; `sampler config template` prints it): every key with
    /// what it does and allows, commented out at its default. The file sets nothing until
    /// a line is uncommented, so `status` compares with the daemon only what the operator
    /// set (a daemon started after `sampler rules install --probability 1` is OK).
    public static func template() -> String {
        var lines = [
            "# sampler's configuration: /etc/sampler/sampler.conf",
            "# One \"key = value\" per line; \"#\" at the start of a line or after a space starts a comment.",
            "# Every key is below, commented out at its default: uncomment a line to set it. Flags",
            "# override the file. Check a change with: sampler config check /etc/sampler/sampler.conf",
            "# (written by `sampler config template`; docs/operations.md has the table of keys)",
        ]
        for setting in Setting.all {
            lines.append("")
            lines += wrapped("\(setting.summary). Allowed: \(setting.allowed).", width: 88, prefix: "# ")
            lines.append("#\(setting.key) = \(quotedIfNeeded(setting.defaultValue))".trimmingTrailingSpaces)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func wrapped(_ text: String, width: Int, prefix: String) -> [String] {
        var lines: [String] = [], line = prefix
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width && line != prefix {
                lines.append(line)
                line = prefix
            }
            line += (line == prefix ? "" : " ") + word
        }
        return lines + [line]
    }

    /// A value that reading would unquote is written quoted, so that it reads back as it is.
    static func quotedIfNeeded(_ value: String) -> String {
        value.unquoted.count != value.count || value.first == "\"" || value.first == "'" ? "\"\(value)\"" : value
    }
}

extension StringProtocol {
    var trimmed: Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return text
    }

    /// Without the double or single quotes around it, as a shell user writes either.
    var unquoted: Substring {
        let text = Substring(self)
        if text.count >= 2, let quote = text.first, quote == "\"" || quote == "'", text.last == quote { return text.dropFirst().dropLast() }
        return text
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
