import NIOCore

/// The batches of a RECORDS field (Produce request, Fetch response, a log segment read), each yielded as
/// a zero-copy slice holding exactly one batch.
///
/// Only the length fields are read: pass each slice to `RecordBatch.validate` or `RecordBatch.decode`.
/// Iteration ends at the end of the bytes or at a truncated final batch (a fetch response may end with a
/// partial batch, cut at the fetch size); the iterator's `remaining` then holds the partial bytes.
/// A batch length below the v2 minimum also ends it, with `error` set; `nextBatch()` throws it instead.
public struct RecordBatchSequence: Sequence, Sendable {
    public var records: ByteBuffer

    @inlinable
    public init(_ records: ByteBuffer) { self.records = records }

    @inlinable
    public func makeIterator() -> Iterator { Iterator(remaining: records) }

    public struct Iterator: IteratorProtocol, Sendable {
        @usableFromInline var _remaining: ByteBuffer
        @usableFromInline var _error: RecordBatchError?

        @inlinable
        init(remaining: ByteBuffer) { _remaining = remaining }

        /// The bytes not yielded yet: after the end, empty or a partial final batch.
        @inlinable
        public var remaining: ByteBuffer { _remaining }

        /// Why iteration stopped early, if a length field was invalid.
        @inlinable
        public var error: RecordBatchError? { _error }

        /// True if iteration ended at a partial batch (or an invalid length) rather than at the end.
        @inlinable
        public var stoppedEarly: Bool { remaining.readableBytes > 0 }

        @inlinable
        public mutating func next() -> ByteBuffer? {
            do {
                return try nextBatch()
            } catch {
                _error = error
                return nil
            }
        }

        /// The next batch; nil at the end or at a truncated final batch. Throws `.invalidBatchLength`
        /// for a length field below the minimum, leaving `remaining` at that batch.
        @inlinable
        public mutating func nextBatch() throws(RecordBatchError) -> ByteBuffer? {
            guard _error == nil, _remaining.readableBytes >= RecordBatchHeader.logOverhead else { return nil }
            let batchLength: Int32 = _remaining.getInteger(at: _remaining.readerIndex + RecordBatchHeader.Offset.batchLength)!
            guard batchLength >= RecordBatchHeader.minimumBatchLength else { throw .invalidBatchLength(batchLength) }
            return _remaining.readSlice(length: RecordBatchHeader.logOverhead + Int(batchLength))
        }
    }
}
