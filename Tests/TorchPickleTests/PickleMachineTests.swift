import Foundation
import TorchPickle
import XCTest

/// The restricted pickle machine on hand-written bytes.
final class PickleMachineTests: XCTestCase {
    private func records(_ bytes: [UInt8]) throws -> [TorchTensorRecord] {
        try TorchArchive.tensorRecords(fromPickle: bytes, file: "t.pt")
    }

    private func expectMalformed(_ bytes: [UInt8], containing text: String, line: UInt = #line) {
        assertTorchError(try records(bytes), text, line: line) {
            if case let .malformedPickle(_, _, _, _, reason) = $0 { return reason.contains(text) }
            return false
        }
    }

    func testBuilderMatchesTorchOutput() throws {
        // The builder's layout must be what torch writes: the real data.pkl parses to the same records.
        let torchPickle = Fixtures.pickleBytes(ofZip: try [UInt8](Fixtures.data("ds3.pt"))).bytes
        let real = try records(torchPickle)
        let rebuilt = try records(PickleBuilder.dataset(real.map { record in
            PickleBuilder.Tensor(storageClass: record.dtype == .float32 ? "FloatStorage" : "DoubleStorage",
                                 key: record.storageKey, location: record.location,
                                 storageCount: record.storageElementCount, offset: record.storageOffset,
                                 shape: record.shape, strides: record.strides, requiresGrad: record.requiresGrad)
        }))
        XCTAssertEqual(real, rebuilt)
        XCTAssertEqual(real.map(\.shape), [[3, 5, 32, 32], [3, 5], [3]])
        XCTAssertEqual(real.map(\.location), ["cpu", "cpu", "cpu"])
    }

    func testProtocol4PickleParses() throws {
        let bytes = Fixtures.pickleBytes(ofZip: try [UInt8](Fixtures.data("proto4.pt"))).bytes
        XCTAssertEqual(Array(bytes.prefix(3)), [0x80, 0x04, 0x95], "fixture must use protocol 4 with FRAME")
        XCTAssertEqual(try records(bytes).map(\.dtype), [.float32, .float64, .float32])
    }

    func testUnknownOpcodeIsNamedInHex() {
        assertTorchError(try records([0x80, 0x02, 0xff])) { error in
            guard case .unknownOpcode(_, "data.pkl", 2, 0xff) = error else { return false }
            return error.description.contains("0xff")
        }
    }

    func testUnsupportedOpcodesAreNamed() {
        let cases: [(UInt8, String)] = [(0x69, "INST"), (0x30, "POP"), (0x82, "EXT1"), (0x47, "BINFLOAT"),
                                        (0x8b, "LONG4"), (0x92, "NEWOBJ_EX"), (0x50, "PERSID"), (0x64, "DICT")]
        for (opcode, name) in cases {
            assertTorchError(try records([0x80, 0x02, opcode, 0x2e]), name) { error in
                guard case let .unsupportedOpcode(_, _, 2, code, reported) = error else { return false }
                return code == opcode && reported == name && error.description.contains("\(name)")
            }
        }
    }

    func testForbiddenGlobalsAreNamed() {
        let globals = [("os", "system"), ("builtins", "eval"), ("torch", "load"), ("torch", "FloatTensor"),
                       ("copyreg", "_reconstructor"), ("__builtin__", "object"), ("torch._utils", "_rebuild_parameter"),
                       ("collections", "defaultdict")]
        for (module, name) in globals {
            var builder = PickleBuilder()
            builder.global(module, name)
            builder.op(0x2e)
            assertTorchError(try records(builder.bytes), "\(module).\(name)") {
                if case let .forbiddenGlobal(_, _, 2, global) = $0 { return global == "\(module).\(name)" }
                return false
            }
        }
        // STACK_GLOBAL (protocol 4) goes through the same allow-list.
        var stacked: [UInt8] = [0x80, 0x04, 0x8c, 8] + Array("builtins".utf8) + [0x8c, 4] + Array("exec".utf8)
        stacked += [0x93, 0x2e]
        assertTorchError(try records(stacked)) {
            if case let .forbiddenGlobal(_, _, _, global) = $0 { return global == "builtins.exec" }
            return false
        }
    }

    func testMemoMissAndStackUnderflow() {
        assertTorchError(try records([0x80, 0x02, 0x68, 0x07, 0x2e])) {
            if case .memoMiss(_, _, 2, 7) = $0 { return true }
            return false
        }
        assertTorchError(try records([0x80, 0x02, 0x6a, 0xff, 0xff, 0x00, 0x00, 0x2e])) {
            if case .memoMiss(_, _, 2, 65535) = $0 { return true }
            return false
        }
        let underflows: [([UInt8], String)] = [
            ([0x80, 0x02, 0x52, 0x2e], "REDUCE"),
            ([0x80, 0x02, 0x74, 0x2e], "TUPLE"),
            ([0x80, 0x02, 0x4e, 0x87, 0x2e], "TUPLE3"),
            ([0x80, 0x02, 0x2e], "STOP"),
            ([0x80, 0x02, 0x71, 0x00, 0x2e], "BINPUT"),
            ([0x80, 0x02, 0x4e, 0x28, 0x73, 0x2e], "SETITEM"),
            ([0x80, 0x02, 0x4e, 0x28, 0x51, 0x2e], "BINPERSID"),
        ]
        for (bytes, opcode) in underflows {
            assertTorchError(try records(bytes), opcode) {
                if case let .stackUnderflow(_, _, _, name) = $0 { return name.hasSuffix(opcode) }
                return false
            }
        }
    }

    func testTruncationAnywhereIsReported() throws {
        let full = PickleBuilder.dataset([PickleBuilder.Tensor()])
        for length in 0..<full.count {
            assertTorchError(try records(Array(full.prefix(length))), "length \(length)") {
                if case .truncatedPickle = $0 { return true }
                return false
            }
        }
        XCTAssertEqual(try records(full).count, 1)
        var longString = PickleBuilder()
        longString.op(0x58, 0x00, 0x10, 0x00, 0x00, 0x61)
        assertTorchError(try records(longString.bytes)) {
            if case .truncatedPickle = $0 { return true }
            return false
        }
    }

    func testLimits() {
        var deep: [UInt8] = [0x80, 0x02, 0x29]
        deep += [UInt8](repeating: 0x85, count: 40)
        deep.append(0x2e)
        assertTorchError(try records(deep)) {
            if case let .limitExceeded(_, _, _, limit) = $0 { return limit.contains("nested") }
            return false
        }
        let marks: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x28, count: 10_001) + [0x2e]
        assertTorchError(try records(marks)) {
            if case let .limitExceeded(_, _, _, limit) = $0 { return limit.contains("MARK") }
            return false
        }
        let hugeString: [UInt8] = [0x80, 0x02, 0x58, 0x00, 0x00, 0x00, 0x40, 0x2e]
        assertTorchError(try records(hugeString)) {
            if case let .limitExceeded(_, _, _, limit) = $0 { return limit.contains("string") }
            return false
        }
        let longGlobal: [UInt8] = [0x80, 0x02, 0x63] + [UInt8](repeating: 0x61, count: 300) + [0x0a, 0x62, 0x0a, 0x2e]
        assertTorchError(try records(longGlobal)) {
            if case .limitExceeded = $0 { return true }
            return false
        }
        var manyDimensions = PickleBuilder.Tensor()
        manyDimensions.shape = [Int](repeating: 1, count: 33)
        manyDimensions.strides = [Int](repeating: 1, count: 33)
        assertTorchError(try records(PickleBuilder.dataset([manyDimensions]))) {
            if case let .limitExceeded(_, _, _, limit) = $0 { return limit.contains("dimensions") }
            return false
        }
    }

    func testTensorGeometryIsChecked() {
        let cases: [(PickleBuilder.Tensor, String)] = [
            (.init(storageCount: 4, shape: [5], strides: [1]), "reach element 4"),
            (.init(storageCount: 4, offset: 3, shape: [2], strides: [1]), "reach element 4"),
            (.init(storageCount: 4, shape: [2, 2], strides: [3, 1]), "reach element 4"),
            (.init(storageCount: 4, shape: [1 << 62, 4], strides: [4, 1]), "overflows"),
            (.init(storageCount: 4, shape: [2, 2], strides: [1 << 62, 1 << 62]), "overflows"),
            (.init(storageCount: 1 << 62, shape: [1], strides: [1]), "too large"),
            (.init(storageCount: 4, offset: 5, shape: [0], strides: [1]), "past the storage"),
        ]
        for (tensor, text) in cases {
            assertTorchError(try records(PickleBuilder.dataset([tensor])), text) {
                if case let .invalidTensor(_, name, reason) = $0 { return name.hasPrefix("tensors[0]") && reason.contains(text) }
                return false
            }
        }
        XCTAssertEqual(try records(PickleBuilder.dataset([.init(storageCount: 0, shape: [0, 5], strides: [5, 1])])).count, 1)
        XCTAssertEqual(try records(PickleBuilder.dataset([.init(storageCount: 4, shape: [4, 3], strides: [1, 0])])).count, 1,
                       "stride 0 (expanded) views stay inside the storage")
        expectMalformed(PickleBuilder.dataset([.init(shape: [-1], strides: [1])]), containing: "non-negative")
        expectMalformed(PickleBuilder.dataset([.init(shape: [2], strides: [-1])]), containing: "non-negative")
        expectMalformed(PickleBuilder.dataset([.init(offset: -4)]), containing: "offset")
        expectMalformed(PickleBuilder.dataset([.init(storageCount: -1)]), containing: "element count")
        expectMalformed(PickleBuilder.dataset([.init(shape: [2, 2], strides: [1])]), containing: "dimensions")
    }

    func testUnknownStorageClassIsAForbiddenGlobal() {
        assertTorchError(try records(PickleBuilder.dataset([.init(storageClass: "QInt8Storage")]))) {
            if case let .forbiddenGlobal(_, _, _, global) = $0 { return global == "torch.QInt8Storage" }
            return false
        }
    }

    func testObjectSemanticsAreRestricted() {
        // REDUCE on a storage class (torch.FloatStorage()) is not a tensor rebuild.
        var reduceStorage = PickleBuilder()
        reduceStorage.global("torch", "FloatStorage")
        reduceStorage.op(0x29, 0x52, 0x2e)
        expectMalformed(reduceStorage.bytes, containing: "may not call torch.FloatStorage")
        // NEWOBJ of anything but TensorDataset.
        var newDict = PickleBuilder()
        newDict.global("collections", "OrderedDict")
        newDict.op(0x29, 0x81, 0x2e)
        expectMalformed(newDict.bytes, containing: "NEWOBJ may not create")
        // OrderedDict with arguments.
        var orderedWithItems = PickleBuilder()
        orderedWithItems.global("collections", "OrderedDict")
        orderedWithItems.op(0x5d, 0x85, 0x52, 0x2e)
        expectMalformed(orderedWithItems.bytes, containing: "OrderedDict(...) with arguments")
        // BUILD on a dict.
        expectMalformed([0x80, 0x02, 0x7d, 0x7d, 0x62, 0x2e], containing: "BUILD on dict")
        // SETITEM on a list, APPEND on a dict.
        expectMalformed([0x80, 0x02, 0x5d, 0x4e, 0x4e, 0x73, 0x2e], containing: "not a dict")
        expectMalformed([0x80, 0x02, 0x7d, 0x4e, 0x61, 0x2e], containing: "not a list")
        // Unhashable dict key.
        expectMalformed([0x80, 0x02, 0x7d, 0x5d, 0x4e, 0x73, 0x2e], containing: "dict key")
        // Invalid UTF-8 and unsupported protocol.
        expectMalformed([0x80, 0x02, 0x8c, 0x02, 0xc3, 0x28, 0x2e], containing: "UTF-8")
        expectMalformed([0x80, 0x06, 0x4e, 0x2e], containing: "protocol 6")
        // Two values left at STOP.
        expectMalformed([0x80, 0x02, 0x4e, 0x4e, 0x2e], containing: "2 values")
        // Persistent ids other than storages.
        var module = PickleBuilder()
        module.op(0x28)
        module.string("module")
        module.op(0x4e, 0x4e, 0x4e, 0x4e, 0x74, 0x51, 0x2e)
        expectMalformed(module.bytes, containing: "'module'")
    }

    func testRebuildArgumentsAreChecked() {
        var hooks = PickleBuilder()
        hooks.global("torch._utils", "_rebuild_tensor_v2")
        hooks.op(0x28, 0x28)
        hooks.string("storage")
        hooks.global("torch", "FloatStorage")
        hooks.string("0")
        hooks.string("cpu")
        hooks.int(4)
        hooks.op(0x74, 0x51)
        hooks.int(0)
        hooks.intTuple([4])
        hooks.intTuple([1])
        hooks.op(0x89)
        hooks.global("collections", "OrderedDict")
        hooks.op(0x29, 0x52)
        hooks.string("hook")
        hooks.op(0x4e, 0x73, 0x74, 0x52, 0x2e) // SETITEM puts a hook in the OrderedDict
        expectMalformed(hooks.bytes, containing: "backward hooks")

        var badRequiresGrad = PickleBuilder()
        badRequiresGrad.global("torch._utils", "_rebuild_tensor_v2")
        badRequiresGrad.op(0x28, 0x4e, 0x74, 0x52, 0x2e)
        expectMalformed(badRequiresGrad.bytes, containing: "6 or 7 arguments")
    }

    func testDatasetShapeOfTheObjectIsChecked() {
        var bareTensor = PickleBuilder()
        bareTensor.tensor(.init())
        bareTensor.op(0x2e)
        assertTorchError(try records(bareTensor.bytes)) {
            if case let .unexpectedObject(_, _, reason) = $0 { return reason.contains("top-level object is tensor") }
            return false
        }
        var noBuild = PickleBuilder()
        noBuild.global("torch.utils.data.dataset", "TensorDataset")
        noBuild.op(0x29, 0x81, 0x2e)
        assertTorchError(try records(noBuild.bytes)) {
            if case let .unexpectedObject(_, _, reason) = $0 { return reason.contains("no BUILD") }
            return false
        }
        var notTensors = PickleBuilder()
        notTensors.global("torch.utils.data.dataset", "TensorDataset")
        notTensors.op(0x29, 0x81, 0x7d)
        notTensors.string("tensors")
        notTensors.op(0x4e, 0x85, 0x73, 0x62, 0x2e)
        assertTorchError(try records(notTensors.bytes)) {
            if case let .unexpectedObject(_, _, reason) = $0 { return reason.contains("tensors[0] is None") }
            return false
        }
        // A 7th `metadata` argument (newer torch) of None is accepted.
        var withMetadata = PickleBuilder.dataset([.init()])
        let rebuildEnd = withMetadata.indices.last { $0 >= 2 && withMetadata[$0] == 0x74 && withMetadata[$0 - 1] == 0x52 && withMetadata[$0 - 2] == 0x29 }
        if let close = rebuildEnd {
            withMetadata.insert(0x4e, at: close)
            XCTAssertEqual(try records(withMetadata).count, 1)
        } else {
            XCTFail("builder layout changed")
        }
    }
}
