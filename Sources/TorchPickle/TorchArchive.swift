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

    /// Reads a torch.save archive already in memory without copying it (a
    /// downloaded object): `owner` must keep `bytes` valid and unchanged and
    /// is retained by the returned storages that view them.
    public static func loadTensorDataset(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject, name: String,
                                         verifyChecksums: Bool = false) throws -> [TorchTensor] {
        guard bytes.count > 0 else { throw TorchPickleError.notATorchFile(file: name, reason: "the file is empty") }
        return try load(source: ByteSource.borrowing(bytes, owner: owner), file: name, verifyChecksums: verifyChecksums)
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
        let archive = try open(source: source, file: file, mode: .tensorDataset, verifyChecksums: verifyChecksums)
        let records = try datasetRecords(archive.root, file: file, entry: archive.pickleEntry)
        let tensors = try archive.attach(records, records.enumerated().map { tensorName($0, $1) })
        try checkSampleCounts(tensors, file: file)
        return tensors
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
    static func attachStorages(_ records: [TorchTensorRecord], names: [String], file: String,
                               storage makeStorage: (TorchTensorRecord) throws -> TorchStorage) throws -> [TorchTensor] {
        var storages: [String: TorchStorage] = [:]
        return try zip(records, names).map { record, name in
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
