// swift-tools-version: 6.3
// Benchmarks live in their own package so that building and testing sampler never
// resolves or compiles package-benchmark. Run: swift package --package-path Benchmarks benchmark
import Foundation
import PackageDescription

// A path dependency is known by its folder's name, which depends on where sampler was
// cloned: work it out from this file's place.
let sampler = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "sampler-benchmarks",
    platforms: [.macOS(.v26)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SamplerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SamplerWire", package: sampler),
                .product(name: "SamplerClassifier", package: sampler),
                .product(name: "SamplerSinks", package: sampler),
                .product(name: "SamplerPipeline", package: sampler),
                .product(name: "SamplerClickHouse", package: sampler),
                .product(name: "SamplerLocation", package: sampler),
                .product(name: "SamplerReport", package: sampler),
                .product(name: "SamplerTestSupport", package: sampler),
            ],
            path: "Benchmarks/SamplerBenchmarks",
            swiftSettings: [.enableExperimentalFeature("Lifetimes")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
