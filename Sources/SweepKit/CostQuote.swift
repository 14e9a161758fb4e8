import Foundation
import LambdaCost

/// `cosmicbench cost`: the CAI paper's formula, requests × duration (s) ×
/// memory (GB) × $/GB-s, computed by LambdaCost.simpleCost. Memory is read
/// by LambdaCost.parseMemory ("2.8GB", "2.8" = GB, "1782.9MB" = MB / 1,024).
public struct CostQuote: Equatable, Sendable {
    public let requests: Int
    public let durationSeconds: Double
    public let memoryGB: Double
    public let pricePerGBSecond: Double
    public let dollars: Double

    public init(requests: Int, durationSeconds: Double, memory: String,
                pricePerGBSecond: Double = paperPricePerGBSecond) throws {
        guard requests >= 0 else {
            throw SweepError.invalidValue(path: "command line", key: "--requests", value: "\(requests)", reason: "must be >= 0")
        }
        guard durationSeconds.isFinite, durationSeconds >= 0 else {
            throw SweepError.invalidValue(path: "command line", key: "--duration", value: "\(durationSeconds)",
                                          reason: "must be a finite number of seconds >= 0")
        }
        guard pricePerGBSecond.isFinite, pricePerGBSecond >= 0 else {
            throw SweepError.invalidValue(path: "command line", key: "--price", value: "\(pricePerGBSecond)",
                                          reason: "must be a finite number of dollars per GB-s >= 0")
        }
        let gb: Double
        do { gb = try parseMemory(memory) } catch {
            throw SweepError.invalidValue(path: "command line", key: "--memory", value: "\"\(memory)\"", reason: "\(error)")
        }
        self.requests = requests
        self.durationSeconds = durationSeconds
        self.memoryGB = gb
        self.pricePerGBSecond = pricePerGBSecond
        self.dollars = simpleCost(requests: requests, durationSeconds: durationSeconds, memoryGB: gb,
                                  pricePerGBSecond: pricePerGBSecond)
    }

    /// "517 requests × 6.55 s × 2.8 GB × $0.00001667/GB-s = $0.1580".
    public var rendered: String {
        "\(requests) requests × \(NumberFormat.trimmed(durationSeconds, 6)) s × \(NumberFormat.trimmed(memoryGB, 6)) GB"
            + " × $\(NumberFormat.trimmed(pricePerGBSecond, 12))/GB-s = $\(NumberFormat.fixed(dollars, 4))"
    }
}
