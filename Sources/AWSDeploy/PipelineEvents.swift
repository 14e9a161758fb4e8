/// The JSON the three Lambda handlers receive and return on AWS, defined once:
/// the state machine builds these shapes, the handlers decode them. `P` below
/// is the CAI payload exactly as the execution was started with it (`bucket`,
/// `file_limit`, `batch_size`, `object_type`, `S3_object_name`, `script`,
/// `result_path`, `data_bucket`, `data_prefix`, optional `world_size`).
///
/// - Execution input = **initialize event**: `P` itself.
/// - **initialize returns** `{"payload": P, "data_map": [[String]]}`: the
///   payload echoed and CAI's data_map (per rank, its partition file names
///   relative to `data_prefix`; `[]` for an idle rank), the shape of the
///   `data_map` key in CAI's `payload.json`. It may also write
///   `{result_path}/payload.json` into `bucket`.
/// - **rank event** (one per data_map entry, built by the Map's ItemSelector):
///   `{"rank": Int, "files": [String], "payload": P}` — `rank` is the entry's
///   index, `files` the entry.
/// - **rank returns** `{"rank": Int, "status": String}` (`"ok"` or `"idle"`);
///   it has written `{result_path}/{rank}.json` into `bucket`. A rank that
///   cannot finish throws (a Lambda function error), which counts against the
///   Map's tolerated failure percentage. Other keys are dropped by the
///   ResultSelector, so a Map result never approaches the 256 KB state limit.
/// - **summarize event**: `{"payload": P, "data_map": [[String]]}` (the
///   initialize result again; the Map's own results are discarded with
///   `ResultPath: null`).
/// - **summarize returns** a small object that becomes the execution's output
///   (under 256 KB), e.g. `{"combined_key": String, "ranks": Int}`; it has
///   written `{result_path}/combined_data.json` into `bucket`.
///
/// Every function receives `COSMICBENCH_HANDLER` (which handler the shared
/// image runs) and the buckets and prefixes its role is scoped to, so a
/// handler can reject a payload pointing elsewhere with a clear message
/// instead of an S3 AccessDenied. Nothing secret is passed.
public enum PipelineEvents {
    /// The three handlers of the one container image, by their
    /// `COSMICBENCH_HANDLER` value.
    public enum Handler: String, CaseIterable, Sendable {
        case initialize
        case rank
        case summarize
    }

    /// Selects the handler inside the shared image.
    public static let handlerVariable = "COSMICBENCH_HANDLER"
    /// The data bucket the functions may read.
    public static let dataBucketVariable = "COSMICBENCH_DATA_BUCKET"
    /// The key prefix under the data bucket they may read (empty or ending in `/`).
    public static let dataPrefixVariable = "COSMICBENCH_DATA_PREFIX"
    /// The results bucket they may write.
    public static let resultsBucketVariable = "COSMICBENCH_RESULTS_BUCKET"
    /// The key prefix under the results bucket they may write.
    public static let resultsPrefixVariable = "COSMICBENCH_RESULTS_PREFIX"

    /// Key of the echoed payload in the initialize result and the rank and summarize events.
    public static let payloadKey = "payload"
    /// Key of CAI's data_map in the initialize result and the summarize event.
    public static let dataMapKey = "data_map"
    /// Key of the rank number in the rank event and result.
    public static let rankKey = "rank"
    /// Key of the rank's file names in the rank event.
    public static let filesKey = "files"
    /// Key of the rank's outcome in its result.
    public static let statusKey = "status"
}
