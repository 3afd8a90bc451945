import ArgumentParser
import Foundation
import SamplerService

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the configuration file.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file and print the effective configuration.",
            discussion: """
                Reads FILE (default: \(Settings.defaultPath); the built-in defaults when it does \
                not exist), checks every key and value, and prints every setting in the file's \
                format. An unknown key or a bad value is an error naming the line, the key, the \
                value and what is allowed (exit status 78).
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
