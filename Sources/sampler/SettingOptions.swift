import ArgumentParser
import SamplerConfiguration

extension ArgumentHelp {
    /// The help of the flag that sets configuration key `key`: what the setting's
    /// declaration (`Setting.all`) says, with its default. A key that is not declared is a
    /// mistake in this file, which the --help test finds at once.
    init(setting key: String) {
        guard let setting = Setting.named(key) else { fatalError("sampler: no setting '\(key)' behind a flag") }
        self.init(setting.help, valueName: setting.valueName)
    }

    /// The help of a flag without a value that turns setting `key` on.
    init(switching key: String) {
        guard let setting = Setting.named(key) else { fatalError("sampler: no setting '\(key)' behind a flag") }
        self.init(setting.summary + ".")
    }
}

/// Sets the configuration keys that flags gave (those not nil) on `settings`, each read
/// as its key is read from the file; a value that is not of its type exits 78.
func applyKeys(_ given: [(String, String?)], to settings: inout Settings) throws {
    try configurationStep { () throws(ConfigurationError) in try setKeys(given, on: &settings) }
}

/// The same, with a bad value as a value (for `status`, which says it on its one line).
func setKeys(_ given: [(String, String?)], on settings: inout Settings) throws(ConfigurationError) {
    for case let (key, value?) in given { try ConfigurationFile.set(key, to: value, in: &settings) }
}
