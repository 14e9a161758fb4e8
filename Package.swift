// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// The model's element-wise kernels are SIMD code; compiled for the x86-64
/// baseline (SSE2, no FMA) they run ~12% slower. AVX2+FMA is on every
/// current x86 server and on AWS Lambda's x86_64; set COSMICBENCH_PORTABLE=1
/// to build for the baseline instead (or on other architectures).
let simdSettings: [SwiftSetting] = {
    #if arch(x86_64)
    if ProcessInfo.processInfo.environment["COSMICBENCH_PORTABLE"] == nil {
        return [.unsafeFlags(["-target-cpu", "haswell"])]
    }
    #endif
    return []
}()

/// The AWS client and the Lambda runtime keep their protocol internals
/// internal; their tests reach them with `@testable import`, which a
/// release build (what the test command uses) only allows for modules
/// compiled for testing. Neither module holds hot code.
let testableSettings: [SwiftSetting] = [.unsafeFlags(["-enable-testing"])]

/// CosmicBench: the AstroMAE redshift model on OpenBLAS, the CAI pipeline on
/// local files, parameter sweeps, a Lambda cost model and reports.
let package = Package(
    name: "CosmicBench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cosmicbench", targets: ["cosmicbench"]),
        .library(name: "AstroMAE", targets: ["AstroMAE"]),
        .library(name: "CAIWorkload", targets: ["CAIWorkload"]),
        .library(name: "LambdaCost", targets: ["LambdaCost"]),
        .library(name: "SweepKit", targets: ["SweepKit"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "TorchPickle", targets: ["TorchPickle"]),
        .library(name: "AWSClient", targets: ["AWSClient"]),
        .library(name: "LambdaRuntime", targets: ["LambdaRuntime"]),
        .library(name: "CAIWorkloadAWS", targets: ["CAIWorkloadAWS"]),
        .library(name: "AWSDeploy", targets: ["AWSDeploy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
        .target(name: "CosmicSupport"),
        .target(name: "SafeTensors", dependencies: ["CosmicSupport"]),
        .target(
            name: "AstroMAE",
            dependencies: ["CBLAS", "SafeTensors", "TorchPickle", "CosmicSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: simdSettings
        ),
        .target(name: "TorchPickle", dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "LambdaCost"),
        .target(
            name: "AWSClient",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: testableSettings
        ),
        .target(
            name: "LambdaRuntime",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: testableSettings
        ),
        .target(name: "AWSDeploy"),
        .target(
            name: "CAIWorkload",
            dependencies: ["AstroMAE", "SafeTensors", "TorchPickle", "CBLAS", "CosmicSupport",
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "CAIWorkloadAWS",
            dependencies: ["CAIWorkload", "AstroMAE", "CosmicSupport", "AWSClient", "LambdaRuntime", "AWSDeploy"]
        ),
        .target(
            name: "SweepKit",
            dependencies: [
                "CAIWorkload", "LambdaCost", "AstroMAE", "CosmicSupport", "BuildInfo",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .target(
            name: "SweepAWS",
            dependencies: ["SweepKit", "CAIWorkload", "CAIWorkloadAWS", "AWSClient", "AWSDeploy", "CosmicSupport",
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        .executableTarget(
            name: "cosmicbench",
            dependencies: [
                "AstroMAE", "CAIWorkload", "CAIWorkloadAWS", "LambdaRuntime", "LambdaCost", "SweepKit", "SafeTensors",
                "CosmicSupport", "AWSDeploy", "BuildInfo", "SweepAWS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "AstroMAETests", dependencies: ["AstroMAE", "SafeTensors", "TorchPickle"]),
        .testTarget(name: "TorchPickleTests", dependencies: ["TorchPickle"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LambdaCostTests", dependencies: ["LambdaCost"]),
        .testTarget(name: "CAIWorkloadTests", dependencies: ["CAIWorkload", "AstroMAE", "SafeTensors"]),
        .testTarget(name: "SweepKitTests", dependencies: ["SweepKit", "LambdaCost", "CAIWorkload", "BuildInfo"]),
        .testTarget(name: "AWSClientTests", dependencies: ["AWSClient"]),
        .testTarget(name: "LambdaRuntimeTests", dependencies: ["LambdaRuntime"]),
        .testTarget(name: "AWSDeployTests", dependencies: ["AWSDeploy"]),
        .testTarget(name: "SweepAWSTests", dependencies: ["SweepAWS", "SweepKit", "CAIWorkload", "LambdaCost"]),
        .executableTarget(
            name: "AstroMAEBenchmarks",
            dependencies: [
                "AstroMAE", "CAIWorkload", "CBLAS",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/AstroMAEBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CAIWorkloadBenchmarks",
            dependencies: [
                "AstroMAE", "CAIWorkload", "CosmicSupport", "TorchPickle",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CAIWorkloadBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "AstroMAEInstructionCount",
            dependencies: ["AstroMAE"],
            path: "Benchmarks/Tools/AstroMAEInstructionCount"
        ),
    ],
    swiftLanguageModes: [.v5]
)
