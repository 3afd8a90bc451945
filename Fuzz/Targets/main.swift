// libFuzzer targets beyond the wire parsers, in one binary (Fuzz/run.sh builds it with
// SAMPLER_FUZZ=1 and -sanitize=fuzzer,address; the package has it only then, because
// libFuzzer provides LLVMFuzzerRunDriver). FUZZ_TARGET picks one:
//   configuration  the configuration file parser; what parses renders and parses again alike
//   records        report's records reader; every line is a record or a bad line, never a crash
//   requests       the HTTP request parser and the request framing of the status and metrics servers
//   classifier     random packets in random order against the spec's invariants
// A crash, an out-of-bounds read, a trap or a broken invariant (a precondition) is a finding.
import SamplerClassifier
import SamplerReport
import SamplerService
import SamplerWire
#if canImport(Glibc)
import Glibc
#endif

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

let target: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
switch getenv("FUZZ_TARGET").map({ String(cString: $0) }) {
case "configuration": target = { data, count in fuzzConfiguration(Array(UnsafeBufferPointer(start: data, count: count))); return 0 }
case "records": target = { data, count in fuzzRecords(Array(UnsafeBufferPointer(start: data, count: count))); return 0 }
case "requests": target = { data, count in fuzzRequests(Array(UnsafeBufferPointer(start: data, count: count))); return 0 }
case "classifier": target = { data, count in fuzzClassifier(Array(UnsafeBufferPointer(start: data, count: count))); return 0 }
default:
    print("FUZZ_TARGET: configuration, records, requests or classifier")
    exit(64)
}
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runDriver(&argc, &argv, target))
