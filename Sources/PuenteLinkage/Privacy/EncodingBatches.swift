import Foundation
import PuenteAccess

/// Encodes records a batch at a time on every core and hands each encoding back in the order the
/// records came. Encoding is an HMAC per token, most of the time of an encodings package, and records
/// are independent; readers and writers stay sequential around it.
public struct EncodingBatches<Item> {
    /// One record's encoding as bytes, from its normalised values and its id in the package, with a
    /// thread's scratch words and HMAC state.
    public typealias Encode = @Sendable ([String], String, inout [UInt64], HMACSHA256.Work) -> [UInt8]

    private let encode: Encode
    private let emit: (Item, String) throws -> Void
    private let size: Int
    private let threads: Int
    private var pending: [(item: Item, values: [String], record: String)] = []

    /// `emit` receives each item with its encoding in base64, in order.
    public init(
        size: Int = 8_192, threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount),
        encode: @escaping Encode, emit: @escaping (Item, String) throws -> Void
    ) {
        self.size = max(1, size)
        self.threads = max(1, threads)
        self.encode = encode
        self.emit = emit
        pending.reserveCapacity(self.size)
    }

    public mutating func add(_ item: Item, values: [String], record: String) throws {
        pending.append((item, values, record))
        if pending.count >= size { try flush() }
    }

    /// Encodes and hands back what is pending; call once more after the last record.
    public mutating func flush() throws {
        guard !pending.isEmpty else { return }
        let batch = pending.map { ($0.values, $0.record) }
        var encoded = [String](repeating: "", count: batch.count)
        let encode = self.encode
        let workers = min(threads, batch.count)
        let chunk = (batch.count + workers - 1) / workers
        encoded.withUnsafeMutableBufferPointer { buffer in
            let target = Unchecked(buffer)
            DispatchQueue.concurrentPerform(iterations: workers) { t in
                let work = HMACSHA256.Work()
                var words: [UInt64] = []
                for k in (t * chunk)..<min(batch.count, (t + 1) * chunk) {
                    let bytes = encode(batch[k].0, batch[k].1, &words, work)
                    target.value[k] = Data(bytes).base64EncodedString()  // disjoint slots per thread
                }
            }
        }
        for (p, e) in zip(pending, encoded) { try emit(p.item, e) }
        pending.removeAll(keepingCapacity: true)
    }
}

extension PPRLEncoder {
    /// This encoder as `EncodingBatches` takes it.
    public var bytesOfRecord: EncodingBatches<Void>.Encode {
        { values, record, words, work in
            encode(values, record: record, into: &words, work: work)
            return EncodingSet.bytes(of: words)
        }
    }
}
