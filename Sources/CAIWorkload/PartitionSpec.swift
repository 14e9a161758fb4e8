import Foundation

/// The fixed per-sample layout of the CAI AstroMAE dataset (spec, "Input
/// data"): one SDSS cut-out of 5 bands × 32 × 32 float32 pixels, 5 float64
/// magnitudes and a float32 redshift label.
public enum SampleFormat {
    /// Photometric bands, in tensor order.
    public static let bands = ["u", "g", "r", "i", "z"]
    public static let bandCount = 5
    public static let height = 32
    public static let width = 32
    /// Pixels of one band of one sample.
    public static let pixelsPerBand = 32 * 32
    /// Float32 values of one sample's image tensor (5 × 32 × 32).
    public static let pixelsPerSample = 5 * 32 * 32
    /// Bytes of one sample's image (5 × 32 × 32 × 4).
    public static let imageBytesPerSample = 20_480
    /// Bytes of one sample's magnitudes (5 × 8).
    public static let magnitudeBytesPerSample = 40
    /// Bytes of one sample including its 4-byte redshift label.
    public static let bytesPerSample = 20_524
    /// Bits of model input per sample as CAI counts throughput:
    /// (20,480 + 40) × 8; the redshift label is not counted.
    public static let bitsPerSample = 164_160
}

/// Why a partition size or a data size could not be understood.
public enum PartitionSpecError: Error, CustomStringConvertible, Equatable {
    case unknownPartitionSize(String)
    case invalidDataSize(String, reason: String)

    public var description: String {
        switch self {
        case let .unknownPartitionSize(value):
            let valid = PartitionSize.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown partition size \"\(value)\"; valid values are \(valid) (the \"MB\" suffix is optional)"
        case let .invalidDataSize(value, reason):
            return "invalid data size \"\(value)\": \(reason); write it in gigabytes such as \"1GB\" or \"12.6GB\""
        }
    }
}

/// The four partition-file sizes of the CAI dataset. Each file holds a fixed
/// number of samples (the last file of a split holds the remainder).
public enum PartitionSize: String, CaseIterable, Codable, Sendable {
    case mb25 = "25MB", mb50 = "50MB", mb75 = "75MB", mb100 = "100MB"

    /// Samples in every full file of this partition size (spec table).
    public var samplesPerFile: Int {
        switch self {
        case .mb25: return 1278
        case .mb50: return 2556
        case .mb75: return 3834
        case .mb100: return 5113
        }
    }

    /// Accepts "25MB", "25mb", "25 MB" or "25"; anything else is an error that
    /// lists the valid values.
    public init(parsing text: String) throws {
        var normalized = text.trimmingCharacters(in: .whitespaces).uppercased()
        if normalized.hasSuffix("MB") { normalized.removeLast(2) }
        normalized = normalized.trimmingCharacters(in: .whitespaces)
        guard !normalized.isEmpty, normalized.allSatisfy(\.isASCII),
              let size = PartitionSize(rawValue: normalized + "MB") else {
            throw PartitionSpecError.unknownPartitionSize(text)
        }
        self = size
    }
}

/// An amount of the CAI dataset, in the dataset's own gigabytes.
///
/// The spec fixes only that the whole dataset ("12.6 GB") is 659,817 samples,
/// so a data size is mapped to samples proportionally:
///
///     samples = floor(659,817 × GB / 12.6)
///
/// computed in exact integer arithmetic on the decimal digits as written
/// (so "12.6GB" is exactly 659,817 samples and "1GB" is 52,366). This
/// reproduces every file count of the spec table: 1 GB → 41, 21, 14, 11 files
/// and 12.6 GB → 517, 259, 173, 130 files for 25/50/75/100 MB partitions.
/// (The table's 1 GB counts hold for 51,131…52,398 samples; 52,366 is inside.)
public struct DataSize: Equatable, Hashable, Codable, Sendable, CustomStringConvertible {
    /// Samples in the whole CAI dataset ("12.6 GB").
    public static let wholeDatasetSamples = 659_817
    /// The whole dataset, 12.6 GB.
    public static let wholeDataset = DataSize(microGigabytes: 12_600_000)

    /// The size in millionths of a gigabyte, exact for the decimal as written.
    public let microGigabytes: Int64

    /// Samples this data size stands for: floor(659,817 × GB / 12.6).
    public let totalSamples: Int

    private init(microGigabytes: Int64) {
        self.microGigabytes = microGigabytes
        self.totalSamples = Int(Int64(Self.wholeDatasetSamples) * microGigabytes / 12_600_000)
    }

    /// Parses "1GB", "12.6GB", "0.5 gb" or a bare number of gigabytes. At most
    /// six decimals and at most 100,000 GB; the size must give at least one sample.
    public init(parsing text: String) throws {
        var body = text.trimmingCharacters(in: .whitespaces).uppercased()
        if body.hasSuffix("GB") {
            body.removeLast(2)
        } else if body.hasSuffix("G") {
            body.removeLast(1)
        }
        body = body.trimmingCharacters(in: .whitespaces)
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let digits = Set("0123456789")
        guard !body.isEmpty, parts.count <= 2, parts.allSatisfy({ $0.allSatisfy { digits.contains($0) } }),
              !(parts[0].isEmpty && (parts.count == 1 || parts[1].isEmpty)) else {
            throw PartitionSpecError.invalidDataSize(text, reason: "not a non-negative decimal number of gigabytes")
        }
        let whole = String(parts[0])
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 6 else {
            throw PartitionSpecError.invalidDataSize(text, reason: "more than six decimals")
        }
        guard whole.count <= 6, let wholeValue = Int64(whole.isEmpty ? "0" : whole), wholeValue <= 100_000 else {
            throw PartitionSpecError.invalidDataSize(text, reason: "larger than 100000 GB")
        }
        let fractionValue = Int64(fraction.padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
        let micro = wholeValue * 1_000_000 + fractionValue
        guard micro <= 100_000 * 1_000_000 else {
            throw PartitionSpecError.invalidDataSize(text, reason: "larger than 100000 GB")
        }
        self.init(microGigabytes: micro)
        guard totalSamples >= 1 else {
            throw PartitionSpecError.invalidDataSize(text, reason: "smaller than one sample (1 GB = 52366 samples)")
        }
    }

    /// The size in gigabytes, for display.
    public var gigabytes: Double { Double(microGigabytes) / 1_000_000 }

    /// "12.6GB", "1GB": the shortest decimal that reproduces the size.
    public var description: String {
        let whole = microGigabytes / 1_000_000
        var fraction = String(microGigabytes % 1_000_000)
        guard fraction != "0" else { return "\(whole)GB" }
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)GB"
    }

    /// Files this data size splits into: ceil(samples / samples per file).
    public func fileCount(partition: PartitionSize) -> Int {
        (totalSamples + partition.samplesPerFile - 1) / partition.samplesPerFile
    }

    /// Samples in the 1-based file `index` of the split: full files, then the
    /// remainder in the last one; 0 for an index outside 1...fileCount.
    public func samplesInFile(index: Int, partition: PartitionSize) -> Int {
        let count = fileCount(partition: partition)
        guard index >= 1, index <= count else { return 0 }
        if index < count { return partition.samplesPerFile }
        return totalSamples - (count - 1) * partition.samplesPerFile
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    /// Encoded as its text form, e.g. "12.6GB".
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
