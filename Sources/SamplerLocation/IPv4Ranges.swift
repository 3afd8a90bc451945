import CPrefetch
import SamplerClassifier

/// The IPv4 answers of a network tree laid flat, a /16 block at a time, the first time an
/// address in the block is asked for: the block cut into ranges that each have one answer
/// (the location and the deciding bits), sorted, found by a search of the block's range
/// starts. For one thread (the records' writer, inside its `LocationCache`).
///
/// A walk of the tree reads a node per bit, and below the first levels each node is a
/// cache miss and most a TLB miss too: about 500 ns for a random public address even
/// with eight walks interleaved. A block's ranges answer with three reads close together
/// (the block's place, its range starts, the answer), and eight addresses take them a
/// stage at a time so that their misses overlap.
///
/// It is exact because it is the walk, done once for every path through the block:
/// `make` follows each branch below the block's node with the rules of the walk's `step`
/// (where the tree ends, what the last bit read decides, what a bad index answers), and
/// a range is what one end of a branch covers. Neighbouring ranges with the same answer
/// are one range: an address in either gets that answer. The tests hold it to the walk on
/// every shape test and on random addresses of the real database, block edges included.
///
/// A block that is one range (64% of them: a /16 or more of one network, or of none)
/// keeps its answer in its place instead, so that an address in it takes one read, not
/// three: in a flood of random sources, most do.
///
/// Memory: 10 bytes a range and 512 KiB of block places; every block made, 718,526
/// ranges (and 41,943 blocks of one), 7.2 MB, for Debian's database of 2022. Laying a
/// block flat reads its part of the tree once (about 23 nodes); a damaged file whose
/// branches meet again is walked at most 2^17 nodes a block, as the block has 16 bits
/// left.
public struct IPv4Ranges: Sendable {
    /// One range's answer, in 8 bytes: the network's AS number (0: none) and country
    /// bytes (0: none), and how many leading bits of the 128 decided it.
    struct Answer: Equatable {
        var asn: UInt32
        var countryFirst: UInt8, countrySecond: UInt8
        var decidingBits: UInt8

        /// A country byte of 0 (or any byte no code has) is no country.
        var found: NetworkTree.Found {
            NetworkTree.Found(location: Location(asn: asn == 0 ? nil : asn, country: CountryCode(first: countryFirst, second: countrySecond)),
                              decidingBits: Int(decidingBits))
        }

        /// The answer as a block's place (`blocks`), with the place's top bit set.
        var place: UInt64 {
            Answer.inline | UInt64(decidingBits) << 48 | UInt64(countrySecond) << 40 | UInt64(countryFirst) << 32 | UInt64(asn)
        }

        /// The top bit of a place that is an answer: a range's index never reaches it.
        static let inline: UInt64 = 1 << 63

        init(asn: UInt32, countryFirst: UInt8, countrySecond: UInt8, decidingBits: UInt8) {
            (self.asn, self.countryFirst, self.countrySecond, self.decidingBits) = (asn, countryFirst, countrySecond, decidingBits)
        }

        /// The answer a place holds (one with `inline` set).
        init(place: UInt64) {
            self.init(asn: UInt32(truncatingIfNeeded: place), countryFirst: UInt8(truncatingIfNeeded: place >> 32),
                      countrySecond: UInt8(truncatingIfNeeded: place >> 40), decidingBits: UInt8(truncatingIfNeeded: place >> 48))
        }
    }

    /// Per /16 block, where its ranges are in `starts` and `answers`: the first's index
    /// in the high 32 bits, how many in the low (at least two); or, for a block that is
    /// one range, its answer (`Answer.place`); 0 until it is made.
    private var blocks = [UInt64](repeating: 0, count: 1 << 16)
    /// Each range's first address, its low 16 bits: ascending within a block, which
    /// begins at 0.
    private var starts: [UInt16] = []
    private var answers: [Answer] = []

    public init() {}

    /// The ranges made so far (a block of one keeps its answer in its place instead).
    var count: Int { starts.count }
    /// The blocks made so far (for tests: a walk of every place).
    var blocksMade: Int { blocks.count { $0 != 0 } }

    /// The answer for `address`, from `tree`'s ranges (the block made now if it is new).
    mutating func answer(_ address: UInt32, in tree: NetworkTree) -> NetworkTree.Found {
        let place = self.place(Int(address >> 16), in: tree)
        if place & Answer.inline != 0 { return Answer(place: place).found }
        let index = search(UInt16(truncatingIfNeeded: address), first: Int(place >> 32), end: Int(place >> 32) + Int(place & 0xffff_ffff))
        return answers[index].found
    }

    /// The answers for the addresses of the lanes set in `lanes`, their reads taken a
    /// stage at a time across all of them: each stage asks for the line the next one
    /// reads (the block's place, the middle of its starts, the answer), so that the
    /// lanes' memory misses, three dependent ones each, are in flight together (one, for
    /// a block of one range). In a flood of random sources every one is a miss. The
    /// answers are `answer(_:in:)`'s.
    mutating func answers(_ addresses: InlineArray<8, UInt32>, lanes: UInt32, in tree: NetworkTree) -> InlineArray<8, NetworkTree.Found> {
        func each(_ body: (Int) -> Void) { Self.each(lanes, body) }
        var first = InlineArray<8, Int>(repeating: 0), end = InlineArray<8, Int>(repeating: 0)
        var results = InlineArray<8, NetworkTree.Found>(repeating: NetworkTree.Found(location: .unknown, decidingBits: 0))
        var ranged: UInt32 = 0  // the lanes whose block is ranges, not one answer
        each { lane in blocks.withUnsafeBufferPointer { sampler_prefetch_for_write($0.baseAddress! + Int(addresses[lane] >> 16)) } }
        each { lane in
            let place = self.place(Int(addresses[lane] >> 16), in: tree)
            if place & Answer.inline != 0 {
                results[lane] = Answer(place: place).found
                return
            }
            ranged |= 1 << lane
            (first[lane], end[lane]) = (Int(place >> 32), Int(place >> 32) + Int(place & 0xffff_ffff))
            starts.withUnsafeBufferPointer { sampler_prefetch_for_write($0.baseAddress! + (first[lane] + end[lane]) / 2) }
        }
        Self.each(ranged) { lane in
            first[lane] = search(UInt16(truncatingIfNeeded: addresses[lane]), first: first[lane], end: end[lane])
            answers.withUnsafeBufferPointer { sampler_prefetch_for_write($0.baseAddress! + first[lane]) }
        }
        Self.each(ranged) { results[$0] = answers[first[$0]].found }
        return results
    }

    /// Calls `body` with each lane set in `lanes`, lowest first.
    @inline(__always)
    private static func each(_ lanes: UInt32, _ body: (Int) -> Void) {
        var round = lanes
        while round != 0 {
            body(round.trailingZeroBitCount)
            round &= round - 1
        }
    }

    /// Makes every block not made yet, in arrays of their size: appending leaves up to
    /// twice the room, 7 MB of it once every block is made.
    mutating func makeAll(in tree: NetworkTree) {
        for block in blocks.indices where blocks[block] == 0 { make(block, in: tree) }
        starts = Self.fitted(starts)
        answers = Self.fitted(answers)
    }

    private static func fitted<Element>(_ array: [Element]) -> [Element] {
        [Element](unsafeUninitializedCapacity: array.count) { buffer, count in
            _ = buffer.initialize(fromContentsOf: array)
            count = array.count
        }
    }

    /// The block's place, made first if it is new.
    @inline(__always)
    private mutating func place(_ block: Int, in tree: NetworkTree) -> UInt64 {
        if blocks[block] == 0 { make(block, in: tree) }
        return blocks[block]
    }

    /// The last range in `first..<end` that starts at or before `low`; the first starts
    /// at 0, so there is one.
    @inline(__always)
    private func search(_ low: UInt16, first: Int, end: Int) -> Int {
        starts.withUnsafeBufferPointer { starts in
            var (first, end) = (first, end)
            while end - first > 1 {
                let middle = (first + end) / 2
                if starts[middle] <= low { first = middle } else { end = middle }
            }
            return first
        }
    }

    /// Lays the /16 `block` flat: every walk of it, from where the tree's table leaves
    /// them (depth 112), by the rules of `NetworkTree.step`.
    private mutating func make(_ block: Int, in tree: NetworkTree) {
        let first = starts.count
        let step = tree.ipv4Step(block: block)
        if step.node == 0 {
            append(0, tree.answer(step.network, decidingBits: Int(step.decidingBits)), first: first)
        } else {
            branch(step.node, depth: 112, start: 0, deepest: step.network, first: first, in: tree)
        }
        if starts.count - first == 1 {
            starts.removeLast()
            blocks[block] = answers.removeLast().place
        } else {
            blocks[block] = UInt64(first) << 32 | UInt64(starts.count - first)
        }
    }

    /// The node at `depth` (112 to 127) that covers the 2^(128 - depth) addresses of the
    /// block from `start`, with the deepest network above it.
    private mutating func branch(_ node: UInt32, depth: Int, start: Int, deepest: UInt32, first: Int, in tree: NetworkTree) {
        let half = 1 << (127 - depth)
        for bit in 0...1 {
            let from = start + bit * half
            let next = tree.child(of: node, bit)
            if next == 0 {
                // The tree ends: decided by the bits read, the last only if the other child exists.
                append(from, tree.answer(deepest, decidingBits: depth + (tree.child(of: node, 1 - bit) == 0 ? 0 : 1)), first: first)
            } else if next >= tree.nodeCount {
                append(from, tree.answer(NetworkTree.none, decidingBits: 128), first: first)  // a bad index answers nothing
            } else {
                let own = tree.network(at: next)
                let deeper = own != NetworkTree.none ? own : deepest
                if depth + 1 == 128 {
                    append(from, tree.answer(deeper, decidingBits: 128), first: first)
                } else {
                    branch(next, depth: depth + 1, start: from, deepest: deeper, first: first, in: tree)
                }
            }
        }
    }

    /// Adds the range of the block from `start` (0 to 65,535, after the block's ranges
    /// so far, which begin at `first`), unless the one before it has the same answer.
    private mutating func append(_ start: Int, _ answer: Answer, first: Int) {
        guard starts.count == first || answers[answers.count - 1] != answer else { return }
        starts.append(UInt16(start))
        answers.append(answer)
    }
}
