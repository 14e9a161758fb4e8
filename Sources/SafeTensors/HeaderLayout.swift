/// The validated content of a safetensors header: metadata and tensors,
/// checked field by field and against the size of the data section.
struct HeaderLayout {
    /// Header lengths above this are treated as corruption, not as a request
    /// to parse a gigantic header.
    static let maxHeaderLength = 100_000_000

    let metadata: [String: String]
    /// Sorted by byte range (then name), covering the data section exactly.
    let tensors: [TensorInfo]
    /// Offset of the data section from the start of the file (8 + header length).
    let dataStart: Int

    /// Validates a whole file image: length field, header and data coverage.
    static func parse(file: UnsafeRawBufferPointer, path: String) throws -> HeaderLayout {
        guard file.count >= 8 else { throw SafeTensorsError.fileTooShort(path: path, size: file.count) }
        var length: UInt64 = 0
        for shift in 0..<8 {
            length |= UInt64(file[shift]) << (8 * UInt64(shift))
        }
        guard length <= UInt64(maxHeaderLength) else {
            if let start = foreignStart(file) { throw SafeTensorsError.notSafeTensors(path: path, start: start) }
            throw SafeTensorsError.headerTooLarge(path: path, length: length, limit: maxHeaderLength)
        }
        let available = file.count - 8
        guard length <= UInt64(available) else {
            if let start = foreignStart(file) { throw SafeTensorsError.notSafeTensors(path: path, start: start) }
            throw SafeTensorsError.headerLengthExceedsFile(path: path, length: length, available: available)
        }
        let dataStart = 8 + Int(length)
        let header = UnsafeRawBufferPointer(rebasing: file[8..<dataStart])
        let (metadata, tensors) = try parse(header: header, dataLength: file.count - dataStart, path: path)
        return HeaderLayout(metadata: metadata, tensors: tensors, dataStart: dataStart)
    }

    /// What an implausible length field really is: text (all 8 bytes
    /// printable: a length above 10^17 that no real header has) or a zip
    /// archive such as a PyTorch `.pt` checkpoint; nil for anything else.
    private static func foreignStart(_ file: UnsafeRawBufferPointer) -> String? {
        let lead = Array(file.prefix(8))
        if lead.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "a zip signature (PK\\3\\4: a PyTorch .pt file?)" }
        let isText = lead.allSatisfy { (0x20...0x7E).contains($0) || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard isText else { return nil }
        let shown = file.prefix(40).prefix { (0x20...0x7E).contains($0) }
        let text = String(decoding: shown, as: UTF8.self)
        return "text \"\(text)\(shown.count < file.count ? "…" : "")\""
    }

    /// Validates the header JSON against a data section of `dataLength` bytes.
    static func parse(header: UnsafeRawBufferPointer, dataLength: Int, path: String) throws
        -> (metadata: [String: String], tensors: [TensorInfo]) {
        guard String(validating: header, as: UTF8.self) != nil else {
            throw SafeTensorsError.headerNotUTF8(path: path)
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(header)
        } catch let failure as JSONParser.Failure {
            throw SafeTensorsError.headerNotJSON(path: path, offset: failure.offset, reason: failure.reason)
        }
        guard case let .object(names, values) = root else {
            throw SafeTensorsError.headerNotObject(path: path, found: root.summary)
        }
        var seen = Set<String>()
        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(names.count)
        for (name, value) in zip(names, values) {
            guard seen.insert(name).inserted else {
                throw SafeTensorsError.duplicateTensor(path: path, tensor: name)
            }
            if name == "__metadata__" {
                metadata = try parseMetadata(value, path: path)
            } else {
                tensors.append(try parseEntry(name, value, dataLength: dataLength, path: path))
            }
        }
        tensors.sort {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name)
                < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        try checkCoverage(tensors, dataLength: dataLength, path: path)
        return (metadata, tensors)
    }

    private static func parseMetadata(_ value: JSONValue, path: String) throws -> [String: String] {
        guard case let .object(keys, items) = value else {
            throw SafeTensorsError.metadataNotObject(path: path, found: value.summary)
        }
        var metadata: [String: String] = [:]
        for (key, item) in zip(keys, items) {
            guard case let .string(text) = item else {
                throw SafeTensorsError.metadataValueNotString(path: path, key: key, found: item.summary)
            }
            guard metadata.updateValue(text, forKey: key) == nil else {
                throw SafeTensorsError.duplicateKey(path: path, tensor: "__metadata__", key: key)
            }
        }
        return metadata
    }

    private static func parseEntry(_ name: String, _ value: JSONValue, dataLength: Int, path: String) throws -> TensorInfo {
        guard case let .object(keys, items) = value else {
            throw SafeTensorsError.entryNotObject(path: path, tensor: name, found: value.summary)
        }
        var fields: [String: JSONValue] = [:]
        for (key, item) in zip(keys, items) {
            guard key == "dtype" || key == "shape" || key == "data_offsets" else {
                throw SafeTensorsError.unexpectedField(path: path, tensor: name, field: key)
            }
            guard fields.updateValue(item, forKey: key) == nil else {
                throw SafeTensorsError.duplicateKey(path: path, tensor: name, key: key)
            }
        }
        func field(_ key: String) throws -> JSONValue {
            guard let item = fields[key] else {
                throw SafeTensorsError.missingField(path: path, tensor: name, field: key)
            }
            return item
        }

        let dtypeValue = try field("dtype")
        guard case let .string(dtypeText) = dtypeValue, let dtype = DType(rawValue: dtypeText) else {
            throw SafeTensorsError.unknownDType(path: path, tensor: name, dtype: dtypeValue.summary)
        }

        let shapeValue = try field("shape")
        guard case let .array(shapeItems) = shapeValue else {
            throw SafeTensorsError.invalidShape(path: path, tensor: name, reason: "expected an array, found \(shapeValue.summary)")
        }
        var shape: [Int] = []
        shape.reserveCapacity(shapeItems.count)
        for (axis, item) in shapeItems.enumerated() {
            guard let dimension = item.nonNegativeInt else {
                throw SafeTensorsError.invalidShape(
                    path: path, tensor: name,
                    reason: "dimension \(axis) is \(item.summary), not a non-negative integer that fits in Int")
            }
            shape.append(dimension)
        }

        let offsetsValue = try field("data_offsets")
        guard case let .array(offsetItems) = offsetsValue, offsetItems.count == 2 else {
            throw SafeTensorsError.invalidDataOffsets(
                path: path, tensor: name, reason: "expected [begin, end], found \(offsetsValue.summary)")
        }
        guard let begin = offsetItems[0].nonNegativeInt, let end = offsetItems[1].nonNegativeInt else {
            throw SafeTensorsError.invalidDataOffsets(
                path: path, tensor: name,
                reason: "[\(offsetItems[0].summary), \(offsetItems[1].summary)] are not non-negative integers that fit in Int")
        }
        guard begin <= end else {
            throw SafeTensorsError.reversedDataOffsets(path: path, tensor: name, begin: begin, end: end)
        }
        guard end <= dataLength else {
            throw SafeTensorsError.offsetsOutOfRange(path: path, tensor: name, begin: begin, end: end, dataLength: dataLength)
        }
        guard let expected = Shape.byteCount(shape, dtype) else {
            throw SafeTensorsError.shapeOverflow(path: path, tensor: name, shape: shape)
        }
        guard expected == end - begin else {
            throw SafeTensorsError.byteCountMismatch(path: path, tensor: name, expected: expected, actual: end - begin)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// The format requires the tensors to tile the data section: no overlap,
    /// no gap, no trailing bytes. `tensors` must be sorted by range.
    private static func checkCoverage(_ tensors: [TensorInfo], dataLength: Int, path: String) throws {
        var cursor = 0
        var owner = ""
        for tensor in tensors {
            let range = tensor.byteRange
            if range.lowerBound < cursor {
                throw SafeTensorsError.overlappingTensors(path: path, tensor: tensor.name, other: owner)
            }
            if range.lowerBound > cursor {
                throw SafeTensorsError.gapInData(path: path, tensor: tensor.name, start: cursor, end: range.lowerBound)
            }
            if !range.isEmpty {
                cursor = range.upperBound
                owner = tensor.name
            }
        }
        if cursor != dataLength {
            throw SafeTensorsError.trailingBytes(path: path, after: owner, start: cursor, count: dataLength - cursor)
        }
    }
}
