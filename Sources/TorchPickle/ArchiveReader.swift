import Foundation
import ZIPFoundation

/// An archive whose pickle has run: its root object, and a function that
/// attaches storages to chosen tensor records. Storages are only touched by
/// `attach`, after the whole pickle was interpreted, so a refused pickle never
/// reads tensor data.
struct OpenedArchive {
    let root: PickleValue
    let pickleEntry: String
    /// Validates and attaches storages to `records`; `names` label errors.
    let attach: (_ records: [TorchTensorRecord], _ names: [String]) throws -> [TorchTensor]
}

extension TorchArchive {
    /// Dispatches on the content's magic bytes: zip (torch >= 1.6) or legacy stream.
    static func open(source: ByteSource, file: String, mode: PickleMode, verifyChecksums: Bool) throws -> OpenedArchive {
        let bytes = source.buffer
        if bytes.starts(with: zipMagic) {
            return try openZip(source: source, file: file, mode: mode, verifyChecksums: verifyChecksums)
        } else if bytes.first == 0x80 {
            return try openLegacy(source: source, file: file, mode: mode)
        } else if bytes.count >= 262, bytes[257..<262].elementsEqual("ustar".utf8) {
            throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "tar-based torch.save from torch<0.4")
        }
        let head = bytes.prefix(4).map { hex8($0) }.joined(separator: " ")
        throw TorchPickleError.notATorchFile(file: file, reason: "starts with bytes \(head), neither a zip nor a pickle")
    }

    // MARK: - Zip format (torch >= 1.6)

    private static func openZip(source: ByteSource, file: String, mode: PickleMode, verifyChecksums: Bool) throws -> OpenedArchive {
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
        var machine = PickleMachine(bytes: pickle, file: file, entry: pickleName, mode: mode)
        let root = try machine.run().value
        return OpenedArchive(root: root, pickleEntry: pickleName) { records, names in
            try attachStorages(records, names: names, file: file) { record in
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
    private static func openLegacy(source: ByteSource, file: String, mode: PickleMode) throws -> OpenedArchive {
        let bytes = source.buffer
        var storageReferences: [String: StorageReference] = [:]
        func runPickle(at start: Int, entry: String, mode: PickleMode = .tensorDataset) throws -> (PickleValue, Int) {
            var machine = PickleMachine(bytes: bytes, start: start, file: file, entry: entry, mode: mode)
            let result = try machine.run()
            storageReferences.merge(machine.storageReferences) { first, _ in first }
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
        let (root, afterObject) = try runPickle(at: afterSystemInfo, entry: "object", mode: mode)
        let (keyList, afterKeys) = try runPickle(at: afterObject, entry: "storage keys")
        guard case .list(let keyValues, _) = keyList else {
            throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "storage key list is \(keyList.kindName)")
        }

        let references = storageReferences
        return OpenedArchive(root: root, pickleEntry: "object") { records, names in
            for (record, name) in zip(records, names) { try validateGeometry(record, tensor: name, file: file) }
            let located = try locateLegacyStorages(keyValues, references: references, source: source, start: afterKeys, file: file)
            return try attachStorages(records, names: names, file: file) { record in
                guard let storage = located[record.storageKey] else {
                    throw TorchPickleError.missingEntry(file: file, entry: "storage '\(record.storageKey)'")
                }
                guard storage.dtype == record.dtype, storage.elementCount == record.storageElementCount else {
                    throw TorchPickleError.storageSizeMismatch(file: file, entry: "storage '\(record.storageKey)'",
                                                               expectedBytes: record.storageElementCount * record.dtype.byteSize,
                                                               actualBytes: storage.byteCount)
                }
                return storage
            }
        }
    }

    /// Finds each listed storage in the stream after the pickles (element count, then bytes).
    private static func locateLegacyStorages(_ keyValues: [PickleValue], references: [String: StorageReference], source: ByteSource,
                                             start afterKeys: Int, file: String) throws -> [String: TorchStorage] {
        let bytes = source.buffer
        let declared = references.mapValues { reference in
            (dtype: reference.dtype, storageElementCount: reference.elementCount)
        }
        let reader = LittleEndianReader(bytes: bytes)
        var located: [String: TorchStorage] = [:]
        var cursor = afterKeys
        for value in keyValues {
            guard case .string(let key) = value else {
                throw TorchPickleError.unsupportedLegacyFormat(file: file, reason: "storage key \(value.kindName) is not a str")
            }
            let entry = "storage '\(key)'"
            guard let record = declared[key] else {
                throw TorchPickleError.unexpectedObject(file: file, entry: entry, reason: "no persistent id declares this storage, so its type is unknown")
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
        return located
    }
}
