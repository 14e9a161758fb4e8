import Foundation
import ZIPFoundation

/// Reads `torch.save` files holding a `torch.utils.data.TensorDataset` without
/// Python and without executing anything: the pickle is interpreted by a
/// restricted machine that only knows the handful of globals such a file uses.
public enum TorchArchive {
    /// Reads a torch.save file holding a TensorDataset; returns its tensors in order. Nothing is executed.
    /// Stored zip entries are memory-mapped, not copied; storage CRCs are not checked
    /// (that would read every page), the pickle's always is.
    public static func loadTensorDataset(at url: URL) throws -> [TorchTensor] {
        try loadTensorDataset(at: url, verifyChecksums: false)
    }

    /// As `loadTensorDataset(at:)`; with `verifyChecksums` also checks each storage's zip CRC-32.
    public static func loadTensorDataset(at url: URL, verifyChecksums: Bool) throws -> [TorchTensor] {
        let source = try ByteSource.map(url)
        return try load(source: source, file: url.path, verifyChecksums: verifyChecksums)
    }

    /// Reads a torch.save archive already in memory (copied once into an aligned
    /// buffer that the returned storages share). `name` is used in error messages.
    public static func loadTensorDataset(data: Data, name: String, verifyChecksums: Bool = false) throws -> [TorchTensor] {
        guard !data.isEmpty else { throw TorchPickleError.notATorchFile(file: name, reason: "the file is empty") }
        return try load(source: ByteSource.copy(of: data), file: name, verifyChecksums: verifyChecksums)
    }

    /// Interprets just a `data.pkl` pickle and returns the TensorDataset's tensor
    /// descriptions, with sizes and strides checked against their storages' element
    /// counts. For tools that list a file's tensors, and for testing the pickle reader.
    public static func tensorRecords(fromPickle bytes: [UInt8], file: String = "<memory>") throws -> [TorchTensorRecord] {
        try bytes.withUnsafeBytes { raw in
            var machine = PickleMachine(bytes: raw, file: file, entry: "data.pkl")
            let root = try machine.run().value
            let records = try datasetRecords(root, file: file, entry: "data.pkl")
            for (index, record) in records.enumerated() {
                try validateGeometry(record, tensor: tensorName(index, record), file: file)
            }
            return records
        }
    }

    // MARK: - Format dispatch

    static let zipMagic: [UInt8] = [0x50, 0x4b, 0x03, 0x04]
    /// `torch.serialization.MAGIC_NUMBER` (0x1950a86a20f9469cfc6c) as LONG1 payload bytes.
    static let legacyMagic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

    static func load(source: ByteSource, file: String, verifyChecksums: Bool) throws -> [TorchTensor] {
        let bytes = source.buffer
        let tensors: [TorchTensor]
        if bytes.starts(with: zipMagic) {
            tensors = try loadZip(source: source, file: file, verifyChecksums: verifyChecksums)
        } else if bytes.first == 0x80 {
            tensors = try loadLegacy(source: source, file: file)
        } else if bytes.count >= 262, bytes[257..<262].elementsEqual("ustar".utf8) {
            throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "tar-based torch.save from torch<0.4")
        } else {
            let head = bytes.prefix(4).map { hex8($0) }.joined(separator: " ")
            throw TorchPickleError.notATorchFile(file: file, reason: "starts with bytes \(head), neither a zip nor a pickle")
        }
        try checkSampleCounts(tensors, file: file)
        return tensors
    }

    // MARK: - Zip format (torch >= 1.6)

    private static func loadZip(source: ByteSource, file: String, verifyChecksums: Bool) throws -> [TorchTensor] {
        let entries = try ZipDirectory.read(source.buffer, file: file)
        guard let first = entries.first else { throw TorchPickleError.malformedZip(file: file, reason: "the archive has no entries") }
        guard let slash = first.name.firstIndex(of: "/"), slash != first.name.startIndex else {
            throw TorchPickleError.malformedZip(file: file, reason: "first entry '\(first.name)' is not inside an archive folder")
        }
        let prefix = String(first.name[..<slash])
        var byName: [String: ZipEntryInfo] = [:]
        for entry in entries { byName[entry.name] = entry }

        let byteOrderName = prefix + "/byteorder"
        if let byteOrder = byName[byteOrderName] {
            guard byteOrder.uncompressedSize <= 64 else {
                throw TorchPickleError.unsupportedByteOrder(file: file, entry: byteOrderName, value: "<\(byteOrder.uncompressedSize) bytes>")
            }
            let (orderSource, offset) = try entryBytes(byteOrder, source: source, file: file, verifyChecksum: true)
            let raw = UnsafeRawBufferPointer(start: orderSource.base + offset, count: byteOrder.uncompressedSize)
            let value = String(decoding: raw, as: UTF8.self)
            guard value == "little" else {
                throw TorchPickleError.unsupportedByteOrder(file: file, entry: byteOrderName, value: value)
            }
        }

        let pickleName = prefix + "/data.pkl"
        guard let pickleEntry = byName[pickleName] else { throw TorchPickleError.missingEntry(file: file, entry: pickleName) }
        let (pickleSource, pickleOffset) = try entryBytes(pickleEntry, source: source, file: file, verifyChecksum: true)
        let pickle = UnsafeRawBufferPointer(start: pickleSource.base + pickleOffset, count: pickleEntry.uncompressedSize)
        var machine = PickleMachine(bytes: pickle, file: file, entry: pickleName)
        let root = try machine.run().value
        let records = try datasetRecords(root, file: file, entry: pickleName)

        return try attachStorages(records, file: file) { record in
            let name = "\(prefix)/data/\(record.storageKey)"
            guard let entry = byName[name] else { throw TorchPickleError.missingEntry(file: file, entry: name) }
            let expected = record.storageElementCount * record.dtype.byteSize
            guard entry.uncompressedSize == expected else {
                throw TorchPickleError.storageSizeMismatch(file: file, entry: name, expectedBytes: expected,
                                                           actualBytes: entry.uncompressedSize)
            }
            let (storageSource, offset) = try entryBytes(entry, source: source, file: file, verifyChecksum: verifyChecksums)
            return TorchStorage(key: record.storageKey, dtype: record.dtype, elementCount: record.storageElementCount,
                                source: storageSource, byteOffset: offset)
        }
    }

    /// The entry's bytes: in place for stored entries, inflated into a new buffer otherwise.
    private static func entryBytes(_ entry: ZipEntryInfo, source: ByteSource, file: String,
                                   verifyChecksum: Bool) throws -> (ByteSource, Int) {
        switch entry.method {
        case 0:
            if verifyChecksum {
                let actual = crc32(UnsafeRawBufferPointer(start: source.base + entry.dataOffset, count: entry.uncompressedSize))
                guard actual == entry.crc32 else {
                    throw TorchPickleError.checksumMismatch(file: file, entry: entry.name, expected: entry.crc32, actual: actual)
                }
            }
            return (source, entry.dataOffset)
        case 8:
            return (try inflate(entry, source: source, file: file), 0)
        default:
            throw TorchPickleError.unsupportedCompression(file: file, entry: entry.name, method: entry.method)
        }
    }

    /// Inflates a deflate entry with ZIPFoundation, checking size and CRC-32.
    private static func inflate(_ entry: ZipEntryInfo, source: ByteSource, file: String) throws -> ByteSource {
        func corrupt(_ reason: String) -> TorchPickleError { .corruptEntry(file: file, entry: entry.name, reason: reason) }
        let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: 1032)
        guard !overflow, entry.uncompressedSize <= bound + 1024 else {
            throw corrupt("declares \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed, beyond deflate's ratio")
        }
        let compressed = source.base + entry.dataOffset
        let compressedSize = entry.compressedSize
        return try ByteSource.allocate(count: entry.uncompressedSize) { output in
            var written = 0
            // ZIPFoundation's Linux inflate loop hands zlib as many bytes as it asked for,
            // whatever the chunk holds, so every chunk is exactly the requested size
            // (zero-padded past the entry) and reading beyond the entry is an error.
            let provider: Provider = { position, size in
                guard position >= 0, position < Int64(compressedSize), size > 0 else {
                    throw corrupt("deflate stream does not end within the entry")
                }
                var chunk = Data(count: size)
                let available = min(size, compressedSize - Int(position))
                chunk.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.copyMemory(from: compressed + Int(position), byteCount: available)
                }
                return chunk
            }
            let consumer: Consumer = { data in
                guard data.count <= output.count - written else {
                    throw corrupt("inflates to more than the declared \(output.count) bytes")
                }
                data.withUnsafeBytes { raw in
                    if let base = raw.baseAddress, raw.count > 0 {
                        output.baseAddress!.advanced(by: written).copyMemory(from: base, byteCount: raw.count)
                    }
                }
                written += data.count
            }
            let checksum: CRC32
            do {
                checksum = try Data.decompress(size: Int64(compressedSize), bufferSize: 64 * 1024, skipCRC32: false,
                                               provider: provider, consumer: consumer)
            } catch let error as TorchPickleError {
                throw error
            } catch {
                throw corrupt("deflate stream is invalid (\(error))")
            }
            guard written == output.count else {
                throw corrupt("inflates to \(written) bytes, the zip directory says \(output.count)")
            }
            guard checksum == entry.crc32 else {
                throw TorchPickleError.checksumMismatch(file: file, entry: entry.name, expected: entry.crc32, actual: checksum)
            }
        }
    }

    /// CRC-32 in chunks (ZIPFoundation's takes a 32-bit length).
    private static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var checksum: CRC32 = 0
        var start = 0
        let chunk = 1 << 30
        while start < bytes.count {
            let length = min(chunk, bytes.count - start)
            let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + start),
                            count: length, deallocator: .none)
            checksum = data.crc32(checksum: checksum)
            start += length
        }
        return checksum
    }

    // MARK: - Legacy format (torch < 1.6 or _use_new_zipfile_serialization=False)

    /// A sequence of pickles (magic number, protocol version, sys_info, the object,
    /// the storage keys) followed by each storage as an 8-byte element count and
    /// its raw bytes, in key order. Storages are mapped in place like zip entries.
    private static func loadLegacy(source: ByteSource, file: String) throws -> [TorchTensor] {
        let bytes = source.buffer
        func runPickle(at start: Int, entry: String) throws -> (PickleValue, Int) {
            var machine = PickleMachine(bytes: bytes, start: start, file: file, entry: entry)
            let result = try machine.run()
            return (result.value, result.end)
        }
        let (magic, afterMagic): (PickleValue, Int)
        do {
            (magic, afterMagic) = try runPickle(at: 0, entry: "magic number")
        } catch {
            throw TorchPickleError.notATorchFile(file: file, reason: "a pickle that does not start with torch's magic number (\(error))")
        }
        guard case .bigInt(let magicBytes) = magic, magicBytes == legacyMagic else {
            throw TorchPickleError.notATorchFile(file: file, reason: "a pickle that does not start with torch's magic number")
        }
        let (version, afterVersion) = try runPickle(at: afterMagic, entry: "protocol version")
        guard case .int(let versionNumber) = version, versionNumber == 1001 else {
            let shown: String
            if case .int(let number) = version { shown = String(number) } else { shown = version.kindName }
            throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "protocol version \(shown), expected 1001")
        }
        let (systemInfo, afterSystemInfo) = try runPickle(at: afterVersion, entry: "sys_info")
        guard case .dict(let info) = systemInfo, let littleEndian = info[.string("little_endian")] else {
            throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "sys_info is not a dict with 'little_endian'")
        }
        guard case .bool(true) = littleEndian else {
            throw TorchPickleError.unsupportedByteOrder(file: file, entry: "sys_info", value: "big")
        }
        let (root, afterObject) = try runPickle(at: afterSystemInfo, entry: "object")
        let records = try datasetRecords(root, file: file, entry: "object")
        for (index, record) in records.enumerated() {
            try validateGeometry(record, tensor: tensorName(index, record), file: file)
        }
        let (keyList, afterKeys) = try runPickle(at: afterObject, entry: "storage keys")
        guard case .list(let keyValues, _) = keyList else {
            throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "storage key list is \(keyList.kindName)")
        }

        var declared: [String: TorchTensorRecord] = [:]
        for record in records where declared[record.storageKey] == nil { declared[record.storageKey] = record }
        let reader = LittleEndianReader(bytes: bytes)
        var located: [String: TorchStorage] = [:]
        var cursor = afterKeys
        for value in keyValues {
            guard case .string(let key) = value else {
                throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "storage key \(value.kindName) is not a str")
            }
            let entry = "storage '\(key)'"
            guard let record = declared[key] else {
                throw TorchPickleError.unexpectedObject(file: file, entry: entry, reason: "no tensor uses this storage, so its type is unknown")
            }
            guard located[key] == nil else {
                throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "storage key '\(key)' is listed twice")
            }
            let size = record.dtype.byteSize
            guard let rawCount = reader.u64(cursor) else {
                throw TorchPickleError.storageSizeMismatch(file: file, entry: entry, expectedBytes: record.storageElementCount * size,
                                                           actualBytes: 0)
            }
            let available = (bytes.count - cursor - 8) / size
            guard rawCount <= UInt64(available) else {
                throw TorchPickleError.storageSizeMismatch(file: file, entry: entry, expectedBytes: record.storageElementCount * size,
                                                           actualBytes: bytes.count - cursor - 8)
            }
            let count = Int(rawCount)
            guard count == record.storageElementCount else {
                throw TorchPickleError.storageSizeMismatch(file: file, entry: entry, expectedBytes: record.storageElementCount * size,
                                                           actualBytes: count * size)
            }
            located[key] = TorchStorage(key: key, dtype: record.dtype, elementCount: count, source: source, byteOffset: cursor + 8)
            cursor += 8 + count * size
        }
        return try attachStorages(records, file: file) { record in
            guard let storage = located[record.storageKey] else {
                throw TorchPickleError.missingEntry(file: file, entry: "storage '\(record.storageKey)'")
            }
            return storage
        }
    }

    // MARK: - Shared validation

    /// The tensors tuple of an unpickled TensorDataset.
    static func datasetRecords(_ root: PickleValue, file: String, entry: String) throws -> [TorchTensorRecord] {
        guard case .tensorDataset(let state) = root else {
            throw TorchPickleError.unexpectedObject(file: file, entry: entry, reason: "the top-level object is \(root.kindName)")
        }
        guard let state else {
            throw TorchPickleError.unexpectedObject(file: file, entry: entry, reason: "the TensorDataset has no state (no BUILD)")
        }
        guard let tensors = state[.string("tensors")] else {
            throw TorchPickleError.unexpectedObject(file: file, entry: entry, reason: "the TensorDataset state has no 'tensors'")
        }
        let items: [PickleValue]
        switch tensors {
        case .tuple(let values, _), .list(let values, _): items = values
        default:
            throw TorchPickleError.unexpectedObject(file: file, entry: entry, reason: "'tensors' is \(tensors.kindName), not a tuple")
        }
        return try items.enumerated().map { index, item in
            guard case .tensor(let record) = item else {
                throw TorchPickleError.unexpectedObject(file: file, entry: entry, reason: "tensors[\(index)] is \(item.kindName), not a tensor")
            }
            return record
        }
    }

    /// Validates every record and gives records sharing a storage key the same storage.
    private static func attachStorages(_ records: [TorchTensorRecord], file: String,
                                       storage makeStorage: (TorchTensorRecord) throws -> TorchStorage) throws -> [TorchTensor] {
        var storages: [String: TorchStorage] = [:]
        return try records.enumerated().map { index, record in
            let name = tensorName(index, record)
            try validateGeometry(record, tensor: name, file: file)
            if let existing = storages[record.storageKey] {
                guard existing.dtype == record.dtype, existing.elementCount == record.storageElementCount else {
                    throw TorchPickleError.invalidTensor(
                        file: file, tensor: name,
                        reason: "storage '\(record.storageKey)' is declared as \(record.storageElementCount) x \(record.dtype.rawValue) "
                            + "but elsewhere as \(existing.elementCount) x \(existing.dtype.rawValue)")
                }
                return TorchTensor(record: record, storage: existing)
            }
            let storage = try makeStorage(record)
            storages[record.storageKey] = storage
            return TorchTensor(record: record, storage: storage)
        }
    }

    static func tensorName(_ index: Int, _ record: TorchTensorRecord) -> String {
        "tensors[\(index)] (storage '\(record.storageKey)')"
    }

    /// Overflow-safe check that every element the view addresses lies in its storage.
    static func validateGeometry(_ record: TorchTensorRecord, tensor: String, file: String) throws {
        func fail(_ reason: String) -> TorchPickleError { .invalidTensor(file: file, tensor: tensor, reason: reason) }
        guard record.shape.count == record.strides.count else {
            throw fail("size \(record.shape) and stride \(record.strides) differ in rank")
        }
        guard record.shape.allSatisfy({ $0 >= 0 }), record.strides.allSatisfy({ $0 >= 0 }), record.storageOffset >= 0 else {
            throw fail("negative size, stride or offset (size \(record.shape), stride \(record.strides), offset \(record.storageOffset))")
        }
        let (storageBytes, storageOverflow) = record.storageElementCount.multipliedReportingOverflow(by: record.dtype.byteSize)
        guard !storageOverflow, storageBytes <= Int.max / 2 else {
            throw fail("storage of \(record.storageElementCount) elements is too large")
        }
        var elements = 1
        for size in record.shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("size \(record.shape) overflows") }
            elements = product
        }
        guard elements > 0 else {
            guard record.storageOffset <= record.storageElementCount else {
                throw fail("offset \(record.storageOffset) is past the storage's \(record.storageElementCount) elements")
            }
            return
        }
        var last = record.storageOffset
        for (size, stride) in zip(record.shape, record.strides) {
            let (step, stepOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, sumOverflow) = last.addingReportingOverflow(step)
            guard !stepOverflow, !sumOverflow else { throw fail("size \(record.shape) with stride \(record.strides) overflows") }
            last = sum
        }
        guard last < record.storageElementCount else {
            throw fail("size \(record.shape), stride \(record.strides), offset \(record.storageOffset) reach element \(last) "
                + "of a \(record.storageElementCount)-element storage")
        }
    }

    /// TensorDataset's own invariant: every tensor has the same first dimension.
    private static func checkSampleCounts(_ tensors: [TorchTensor], file: String) throws {
        for (index, tensor) in tensors.enumerated() where tensor.shape.isEmpty {
            throw TorchPickleError.invalidTensor(file: file, tensor: "tensors[\(index)] (storage '\(tensor.storageKey)')",
                                                 reason: "a 0-dimensional tensor cannot be a TensorDataset member")
        }
        let counts = tensors.map { $0.shape[0] }
        if let first = counts.first, counts.contains(where: { $0 != first }) {
            throw TorchPickleError.sampleCountMismatch(file: file, counts: counts)
        }
    }
}
