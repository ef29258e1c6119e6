// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "crowdlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "crowdlab", targets: ["crowdlab"]),
        .library(name: "Consensus", targets: ["Consensus"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "Phantoms", targets: ["Phantoms"]),
        .library(name: "Crowd", targets: ["Crowd"]),
        .library(name: "Lab", targets: ["Lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CGSL", pkgConfig: "gsl",
                       providers: [.apt(["libgsl-dev"]), .brew(["gsl"])]),
        .target(name: "CAllocator"),
        .target(name: "Randomness", dependencies: ["CGSL"]),
        .target(name: "Imaging", dependencies: ["CPNG"]),
        .target(name: "Consensus", dependencies: ["CGSL"]),
        .target(name: "Phantoms", dependencies: ["Imaging", "Randomness"]),
        .target(name: "Crowd", dependencies: ["Consensus", "Imaging", "Randomness", "CGSL", "Yams"]),
        .target(name: "Reports", dependencies: ["Consensus", "Imaging"]),
        .target(name: "Lab", dependencies: ["Consensus", "Crowd", "Phantoms", "Imaging", "Reports", "Randomness", "Yams"]),
        .executableTarget(name: "crowdlab", dependencies: [
            "Consensus", "Imaging", "Reports", "Phantoms", "Crowd", "Randomness", "Lab", "CAllocator",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "PhantomsTests", dependencies: ["Phantoms", "Imaging"]),
        .testTarget(name: "CrowdTests", dependencies: ["Crowd", "Consensus", "Phantoms", "Imaging"]),
        .testTarget(name: "CrowdlabCLITests", dependencies: ["crowdlab"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Crowd", "Consensus", "Phantoms"]),
    ]
)
