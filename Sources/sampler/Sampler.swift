import ArgumentParser

@main
struct Sampler: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sampler",
        abstract: "Measure TCP connections that end early, by reset or timeout, from client-to-server packets.",
        discussion: """
            sampler classifies each sampled TCP connection by the stage at which it ended \
            (post_syn, post_ack, post_psh, later, none) and tags such as reset, timeout, \
            single_rst or zmap. See docs/classification.md for the rules.

            Offline: `sampler classify capture.pcap` reads a pcap or pcapng file (NFLOG, \
            Ethernet, Linux cooked or raw IP) and writes one JSON line per connection.

            \(ExitStatus.overview)
            """,
        version: samplerVersion,
        subcommands: [Run.self, Status.self, Rules.self, Classify.self, Report.self, Config.self]
    )
}
