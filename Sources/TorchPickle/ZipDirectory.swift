/// One entry of a zip central directory, with the offset of its data, which
/// ZIPFoundation does not expose: the data of a stored entry is mapped in place.
struct ZipEntryInfo {
    let name: String
    let method: UInt16
    let crc32: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let dataOffset: Int
}

/// A bounds-checked reader of the zip central directory (including ZIP64), kept
/// minimal: torch archives are single-disk, unencrypted, stored or deflated.
enum ZipDirectory {
    static let localHeaderSignature: UInt32 = 0x0403_4b50
    static let centralHeaderSignature: UInt32 = 0x0201_4b50
    static let endSignature: UInt32 = 0x0605_4b50
    static let zip64EndSignature: UInt32 = 0x0606_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    static let maxEntries = 1_000_000

    /// Entries in central-directory order.
    static func read(_ bytes: UnsafeRawBufferPointer, file: String) throws -> [ZipEntryInfo] {
        func fail(_ reason: String) -> TorchPickleError { .malformedZip(file: file, reason: reason) }
        let reader = LittleEndianReader(bytes: bytes)

        guard let endOffset = findEndRecord(reader) else {
            throw fail("end of central directory record not found (truncated archive?)")
        }
        guard let diskNumber = reader.u16(endOffset + 4), let directoryDisk = reader.u16(endOffset + 6),
              let entriesOnDisk = reader.u16(endOffset + 8), let entryCount16 = reader.u16(endOffset + 10),
              let directorySize32 = reader.u32(endOffset + 12), let directoryOffset32 = reader.u32(endOffset + 16) else {
            throw fail("end of central directory record is cut off")
        }
        var entryCount = UInt64(entryCount16)
        var directorySize = UInt64(directorySize32)
        var directoryOffset = UInt64(directoryOffset32)
        if entryCount16 == 0xffff || directorySize32 == 0xffff_ffff || directoryOffset32 == 0xffff_ffff {
            guard endOffset >= 20, reader.u32(endOffset - 20) == zip64LocatorSignature,
                  let zip64Offset = reader.u64(endOffset - 12), zip64Offset <= UInt64(bytes.count),
                  reader.u32(Int(zip64Offset)) == zip64EndSignature,
                  let count = reader.u64(Int(zip64Offset) + 32), let size = reader.u64(Int(zip64Offset) + 40),
                  let offset = reader.u64(Int(zip64Offset) + 48) else {
                throw fail("ZIP64 end of central directory record missing or cut off")
            }
            entryCount = count
            directorySize = size
            directoryOffset = offset
        } else if diskNumber != 0 || directoryDisk != 0 || entriesOnDisk != entryCount16 {
            throw fail("multi-disk archives are not supported")
        }
        guard entryCount <= UInt64(maxEntries) else { throw fail("\(entryCount) entries (limit \(maxEntries))") }
        guard directoryOffset <= UInt64(bytes.count), directorySize <= UInt64(bytes.count) - directoryOffset else {
            throw fail("central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the \(bytes.count)-byte file")
        }
        let directoryStart = Int(directoryOffset)
        let directoryEnd = directoryStart + Int(directorySize)

        var entries: [ZipEntryInfo] = []
        var seen = Set<String>()
        var cursor = directoryStart
        for number in 0..<Int(entryCount) {
            guard cursor <= directoryEnd - 46, reader.u32(cursor) == centralHeaderSignature,
                  let flags = reader.u16(cursor + 8), let method = reader.u16(cursor + 10),
                  let crc = reader.u32(cursor + 16), let compressed32 = reader.u32(cursor + 20),
                  let uncompressed32 = reader.u32(cursor + 24), let nameLength = reader.u16(cursor + 28),
                  let extraLength = reader.u16(cursor + 30), let commentLength = reader.u16(cursor + 32),
                  let localOffset32 = reader.u32(cursor + 42) else {
                throw fail("central directory entry \(number) at offset \(cursor) is damaged")
            }
            let nameStart = cursor + 46
            let extraStart = nameStart + Int(nameLength)
            let next = extraStart + Int(extraLength) + Int(commentLength)
            guard next <= directoryEnd else { throw fail("central directory entry \(number) overruns the directory") }
            guard let name = String(validatingUTF8Bytes: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<extraStart])) else {
                throw fail("entry \(number) name is not valid UTF-8")
            }
            guard flags & 0x1 == 0 else { throw fail("entry '\(name)' is encrypted") }

            var uncompressedSize = UInt64(uncompressed32)
            var compressedSize = UInt64(compressed32)
            var localOffset = UInt64(localOffset32)
            if uncompressed32 == 0xffff_ffff || compressed32 == 0xffff_ffff || localOffset32 == 0xffff_ffff {
                guard let values = zip64Values(reader, from: extraStart, length: Int(extraLength),
                                               needed: [uncompressed32, compressed32, localOffset32].filter { $0 == 0xffff_ffff }.count) else {
                    throw fail("entry '\(name)' lacks its ZIP64 extra field")
                }
                var iterator = values.makeIterator()
                if uncompressed32 == 0xffff_ffff { uncompressedSize = iterator.next()! }
                if compressed32 == 0xffff_ffff { compressedSize = iterator.next()! }
                if localOffset32 == 0xffff_ffff { localOffset = iterator.next()! }
            }
            guard uncompressedSize <= UInt64(Int.max / 2), compressedSize <= UInt64(bytes.count),
                  localOffset <= UInt64(bytes.count) else {
                throw fail("entry '\(name)' sizes or offset are out of range")
            }
            let local = Int(localOffset)
            guard local <= bytes.count - 30, reader.u32(local) == localHeaderSignature,
                  let localNameLength = reader.u16(local + 26), let localExtraLength = reader.u16(local + 28) else {
                throw fail("entry '\(name)' local header at offset \(local) is missing")
            }
            let dataOffset = local + 30 + Int(localNameLength) + Int(localExtraLength)
            guard dataOffset <= directoryStart, Int(compressedSize) <= directoryStart - dataOffset else {
                throw fail("entry '\(name)' data (offset \(dataOffset), \(compressedSize) bytes) overlaps the central directory or file end")
            }
            let localName = UnsafeRawBufferPointer(rebasing: bytes[(local + 30)..<(local + 30 + Int(localNameLength))])
            guard localName.elementsEqual(name.utf8) else {
                throw fail("entry '\(name)' local header names a different file")
            }
            if method == 0 && compressedSize != uncompressedSize {
                throw fail("stored entry '\(name)' has compressed size \(compressedSize) but size \(uncompressedSize)")
            }
            guard seen.insert(name).inserted else { throw fail("duplicate entry '\(name)'") }
            entries.append(ZipEntryInfo(name: name, method: method, crc32: crc, compressedSize: Int(compressedSize),
                                        uncompressedSize: Int(uncompressedSize), dataOffset: dataOffset))
            cursor = next
        }
        return entries
    }

    /// The last end-of-central-directory signature whose comment fits the file.
    private static func findEndRecord(_ reader: LittleEndianReader) -> Int? {
        let count = reader.bytes.count
        guard count >= 22 else { return nil }
        let lowest = max(0, count - 22 - 0xffff)
        var offset = count - 22
        while offset >= lowest {
            if reader.u32(offset) == endSignature, let commentLength = reader.u16(offset + 20),
               offset + 22 + Int(commentLength) <= count {
                return offset
            }
            offset -= 1
        }
        return nil
    }

    /// The first `needed` 64-bit values of the ZIP64 extended-information extra field (id 0x0001).
    private static func zip64Values(_ reader: LittleEndianReader, from start: Int, length: Int, needed: Int) -> [UInt64]? {
        var cursor = start
        let end = start + length
        while cursor + 4 <= end {
            guard let id = reader.u16(cursor), let size = reader.u16(cursor + 2) else { return nil }
            let body = cursor + 4
            guard body + Int(size) <= end else { return nil }
            if id == 0x0001 {
                guard Int(size) >= needed * 8 else { return nil }
                let values = (0..<needed).compactMap { reader.u64(body + $0 * 8) }
                return values.count == needed ? values : nil
            }
            cursor = body + Int(size)
        }
        return nil
    }
}

/// Bounds-checked little-endian loads; nil instead of reading past the end.
struct LittleEndianReader {
    let bytes: UnsafeRawBufferPointer

    func u16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func u32(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset <= bytes.count - 4 else { return nil }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func u64(_ offset: Int) -> UInt64? {
        guard offset >= 0, offset <= bytes.count - 8 else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
