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
                value and what is allowed.

                \(ExitStatus.help("the file is good", [.configuration: "the file cannot be read, or has an unknown key or a bad value"]))
                """
        )

        @Argument(help: ArgumentHelp("The configuration file.", valueName: "file"))
        var file: String?

        func run() throws {
            var option = ConfigOption()
            option.config = file
            let settings = try option.load()
            try configurationStep { () throws(ConfigurationError) in try settings.validate() }
            let source = file ?? (FileManager.default.fileExists(atPath: Settings.defaultPath) ? Settings.defaultPath : "built-in defaults")
            print("# effective configuration (from \(source))")
            print(ConfigurationFile.render(settings), terminator: "")
        }
    }
}
