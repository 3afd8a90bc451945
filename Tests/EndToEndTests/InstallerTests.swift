import Foundation
import SamplerSubprocess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// install.sh is a front to apt-get and the Debian package. What it installs is tested for
/// real, in fresh Debian roots made by mmdebstrap, by scripts/test-deb (install, the
/// printed foreground command, purge; under a real systemd too), which scripts/test runs.
/// Here: its options, and each refusal that comes before anything is installed — so no
/// test here installs anything on this host.
@Suite struct InstallerTests {
    static let installer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("install.sh").path

    @Test func explainsItselfAndRefusesBadOptions() throws {
        let help = try Subprocess.run([Self.installer, "--help"])
        #expect(help.status == 0)
        for option in ["--deb FILE", "--uninstall", "--purge", "apt-get remove sampler", "apt-get purge sampler"] {
            #expect(help.stdout.contains(option), "--help does not mention \(option)")
        }
        let bad = try Subprocess.run([Self.installer, "--frobnicate"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown option '--frobnicate'"))
        let both = try Subprocess.run([Self.installer, "--deb", "x.deb", "--purge"])
        #expect(both.status == 2 && both.stderr.contains("--deb installs"), "\(both.stderr)")
    }

    @Test(.enabled(if: Lab.isRoot, "needs root to run install.sh past its root check: run as root (CI does)"))
    func refusesAnythingButASamplerPackage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-installer-\(getpid())")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("other/DEBIAN"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let missing = try Subprocess.run([Self.installer, "--deb", directory.appendingPathComponent("none.deb").path])
        #expect(missing.status == 1 && missing.stderr.contains("no such file"), "\(missing.stderr)")
        #expect(missing.stderr.contains("scripts/package-deb"), "says how to get a package: \(missing.stderr)")

        let notAPackage = try Subprocess.run([Self.installer, "--deb", Self.installer])
        #expect(notAPackage.status == 1 && notAPackage.stderr.contains("is not a Debian package"), "\(notAPackage.stderr)")

        // A real package, but not sampler: refused before apt-get sees it.
        try """
            Package: other
            Version: 1.0
            Architecture: all
            Maintainer: nobody <nobody@example.org>
            Description: not sampler

            """.write(to: directory.appendingPathComponent("other/DEBIAN/control"), atomically: true, encoding: .utf8)
        let other = directory.appendingPathComponent("other.deb").path
        let built = try Subprocess.run(["dpkg-deb", "--root-owner-group", "--build", directory.appendingPathComponent("other").path, other])
        try #require(built.status == 0, "\(built.stderr)")
        let wrong = try Subprocess.run([Self.installer, "--deb", other])
        #expect(wrong.status == 1 && wrong.stderr.contains("is the package 'other', not sampler"), "\(wrong.stderr)")
    }

    @Test(.enabled(if: Lab.isRoot, "needs root to run install.sh past its root check: run as root (CI does)"))
    func withoutSwiftItSaysHowToInstallAPackageBuiltElsewhere() throws {
        // A PATH with only the two tools install.sh uses before it looks for swift, so no
        // swift can be found (and so nothing is built or installed), wherever it lives here.
        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("sampler-noswift-\(getpid())")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: bin) }
        for tool in ["dirname", "id"] {
            let path = try #require(Subprocess.find(tool))
            try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(tool).path, withDestinationPath: path)
        }
        let result = try Subprocess.run(["/usr/bin/env", "-i", "PATH=\(bin.path)", "/bin/bash", Self.installer])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("swift is not on PATH"), "\(result.stderr)")
        #expect(result.stderr.contains("./install.sh --deb sampler_VERSION_ARCH.deb"), "\(result.stderr)")
    }

    @Test(.enabled(if: Lab.isRoot && Subprocess.find("setpriv") != nil, "needs root to switch to another user, and setpriv"))
    func refusesToRunWithoutRoot() throws {
        let result = try Subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", Self.installer, "--purge"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("run it as root"), "\(result.stderr)")
        #expect(result.stderr.contains("sudo ./install.sh --purge"), "\(result.stderr)")
    }
}
