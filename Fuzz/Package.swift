// swift-tools-version: 6.1
import PackageDescription

/// libFuzzer harnesses for CosmicBench's parsers of untrusted input. Each
/// executable defines only `LLVMFuzzerTestOneInput`; libFuzzer supplies
/// `main`, so the targets are compiled as libraries (`-parse-as-library`).
/// Build through `scripts/fuzz.sh`, which adds `--sanitize=fuzzer` and
/// `--sanitize=address` for the whole graph (coverage and ASan in the parsers,
/// not just the harnesses).
let harness: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "CosmicBenchFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "CosmicBench", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "fuzz-safetensors",
            dependencies: [.product(name: "SafeTensors", package: "CosmicBench")],
            swiftSettings: harness
        ),
        .executableTarget(
            name: "fuzz-torch",
            dependencies: [.product(name: "TorchPickle", package: "CosmicBench")],
            swiftSettings: harness
        ),
        .executableTarget(
            name: "fuzz-payload",
            dependencies: [.product(name: "CAIWorkload", package: "CosmicBench")],
            swiftSettings: harness
        ),
        .executableTarget(
            name: "fuzz-sweepspec",
            dependencies: [.product(name: "SweepKit", package: "CosmicBench")],
            swiftSettings: harness
        ),
        .executableTarget(
            name: "fuzz-s3-listing",
            dependencies: [.product(name: "AWSClient", package: "CosmicBench")],
            swiftSettings: harness
        ),
        .executableTarget(
            name: "fuzz-lambda-event",
            dependencies: [
                .product(name: "CAIWorkloadAWS", package: "CosmicBench"),
                .product(name: "CAIWorkload", package: "CosmicBench"),
                .product(name: "LambdaRuntime", package: "CosmicBench"),
                .product(name: "AWSDeploy", package: "CosmicBench"),
            ],
            swiftSettings: harness
        ),
    ],
    swiftLanguageModes: [.v5]
)
