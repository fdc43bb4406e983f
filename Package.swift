// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "r2",
    products: [
        // The C ABI: libr2.so, described by include/r2.h.
        .library(name: "r2", type: .dynamic, targets: ["R2CABI"]),
        // The Swift API.
        .library(name: "R2", targets: ["R2"]),
        // Test kit for Swift users and r2's own tests: a fault-injecting
        // transport and a virtual clock. Not part of libr2.so.
        .library(name: "R2Testing", targets: ["R2Testing"]),
        // The command-line tool (`make cli` links it as ./bin/r2).
        .executable(name: "r2-cli", targets: ["R2CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CExpat", pkgConfig: "expat", providers: [.apt(["libexpat1-dev"])]),
        // The ABI's C types (enums, option structs, callbacks, handles); the
        // public header is composed from this file plus the Swift exports.
        .target(name: "CR2Types"),
        .target(name: "R2", dependencies: ["CCurl", "CCrypto", "CExpat", "CR2Types"]),
        .target(name: "R2CABI", dependencies: ["R2", "CR2Types"]),
        .executableTarget(name: "R2CLI", dependencies: [
            "R2", "CR2Types", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "R2Testing", dependencies: ["R2"]),
        // `make bench-swift-async`: concurrent async GETs against a local server.
        .executableTarget(name: "R2AsyncBench", dependencies: ["R2"]),
        .testTarget(name: "R2Tests", dependencies: ["R2", "R2Testing"]),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
