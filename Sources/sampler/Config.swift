import ArgumentParser
import Foundation
import SamplerConfiguration

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the configuration file.",
        discussion: ExitStatus.overview,
        subcommands: [Check.self, Template.self]
    )

    struct Template: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the configuration file the package installs: every key commented out at its default.",
            discussion: """
                Each key comes with what it does and what it allows, commented out, so that the \
                file sets nothing until a line is uncommented: sampler status then compares with \
                the running daemon only what was set. It is systemd/sampler.conf in the source \
                (a test keeps the two equal): sampler config template > systemd/sampler.conf.

                \(ExitStatus.help("printed", [:]))
                """
        )

        func run() throws { print(ConfigurationFile.template(), terminator: "") }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file and print the effective configuration.",
            discussion: """
                Reads FILE (default: \(Settings.defaultPath); the built-in defaults when it does \
                not exist), checks every key and value, and prints every setting in the file's \
                format. An unknown key or a bad value is an error naming the line, the key, the \
                value and what is allowed; so are a status_socket_group that does not exist and \
                a clickhouse_password_file that cannot be read (a relative one is read from \
                systemd's $CREDENTIALS_DIRECTORY when that is set), as `run` would refuse them.

                \(ExitStatus.help("the file is good", [.configuration: "the file cannot be read, or has an unknown key or a bad value"]))
                """
        )

        @Argument(help: ArgumentHelp("The configuration file.", valueName: "file"))
        var file: String?

        func run() throws {
            var option = ConfigOption()
            option.config = file
            let settings = try option.load()
            let environment = ProcessInfo.processInfo.environment
            try configurationStep { () throws(ConfigurationError) in
                try settings.validate()
                // What `run` checks as it starts, so that a file that passes here starts.
                _ = try settings.statusSocketGroupID()
                // Set, it is read whenever ClickHouse is asked (report --clickhouse-url too).
                if settings.clickhousePasswordPath(environment: environment) != nil {
                    _ = try settings.clickhousePassword(environment: environment)
                }
            }
            if !settings.clickhousePasswordFile.isEmpty,
               settings.clickhousePasswordPath(environment: environment) == nil {
                printError("sampler config check: note: clickhouse_password_file = \(settings.clickhousePasswordFile) is relative: "
                    + "the service reads it from systemd's $CREDENTIALS_DIRECTORY (LoadCredential=), so it is not checked here")
            }
            let source = file ?? (FileManager.default.fileExists(atPath: Settings.defaultPath) ? Settings.defaultPath : "built-in defaults")
            print("# effective configuration (from \(source))")
            print(ConfigurationFile.render(settings), terminator: "")
        }
    }
}
