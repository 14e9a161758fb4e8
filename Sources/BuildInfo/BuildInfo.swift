/// What this binary was built from, fixed at build time by BuildInfoPlugin.
public enum BuildInfo {
    /// CosmicBench's release version.
    public static let version = "0.4.0"
    /// `git rev-parse HEAD` of the source tree the binary was built from, or "unknown".
    public static let commit = GeneratedBuildInfo.commit
    /// True when tracked files differed from `commit` at build time.
    public static let dirty = GeneratedBuildInfo.dirty

    /// The commit with "-dirty" appended when the tree was modified.
    public static var commitDescription: String { dirty ? commit + "-dirty" : commit }

    /// `cosmicbench 0.4.0 (commit 1a2b3c4d5e6f, dirty)`: what `--version` prints.
    public static var versionLine: String {
        let short = commit == "unknown" ? commit : String(commit.prefix(12))
        return "cosmicbench \(version) (commit \(short)\(dirty ? ", dirty" : ""))"
    }
}
