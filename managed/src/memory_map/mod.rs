//! Memory you can see: a picture of what a container holds, block by block.
//!
//! Every container has a `memory_map(&self)` method returning a
//! [`MemoryMap`]: the blocks of memory it holds (its pages, chunks or
//! regions, and the side tables its [`stats`](crate::SpaceStats) count), each
//! an address range cut into [`Span`]s of one [`SpanKind`]: live values,
//! free room, padding, page headers, metadata, or bytes the container cannot
//! see into ([`SpanKind::Opaque`]). Taking a map only reads the container:
//! it needs `&self`, and changes nothing.
//!
//! Two renderings are built in, with no dependency: [`MemoryMap::to_svg`]
//! draws one row per block, coloured by kind, with a legend and the figures
//! in a caption; [`MemoryMap::to_terminal`] writes one line per block in
//! Unicode shading (or, with [`MemoryMap::to_ansi`], in colours).
//!
//! ```
//! use managed::memory_map::SpanKind;
//! use managed::prelude::*;
//!
//! let mut pool = UniformPool::new();
//! let keys: Vec<_> = (0..100u64).map(|i| pool.insert(i)).collect();
//! for key in &keys[..90] {
//!     pool.remove(*key);
//! }
//! let map = pool.memory_map();
//! // The live spans are the values the statistics count.
//! assert_eq!(map.bytes(SpanKind::Live), pool.stats().live_bytes);
//! // Every byte the pool reserved is in exactly one span of one block.
//! assert_eq!(map.reserved_bytes(), pool.stats().reserved_bytes);
//! // Pictures for a person.
//! assert!(map.to_svg().starts_with("<svg"));
//! assert!(map.to_terminal(80).lines().count() > 1);
//! ```
//!
//! The model is plain data, so other renderings (a plotting crate, a UI) can
//! be written on top of [`MemoryMap::blocks`]; maps of one's own structures
//! can be built with [`Block::new`] and [`Block::push`].

mod svg;
mod terminal;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use svg::svg_of;

/// What a run of bytes of a block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpanKind {
    /// Bytes of live values, as the container's `stats().live_bytes` counts
    /// them.
    Live,
    /// Room the container can fill without asking the allocator: vacant
    /// slots, unused capacity, dead objects waiting for compaction, idle
    /// pages kept for reuse.
    Free,
    /// Bytes no value can use: alignment gaps, the unused end of a page or
    /// slot.
    Padding,
    /// A page or chunk header at the start of a block.
    Header,
    /// Bookkeeping next to the values: generations, record sizes, bitmaps,
    /// key tables, back-pointers.
    Metadata,
    /// Bytes in use whose contents the container cannot see into (a page
    /// list's payload, a bump arena's earlier blocks).
    Opaque,
}

impl SpanKind {
    /// Every kind, in legend order.
    pub const ALL: [SpanKind; 6] = [
        SpanKind::Live,
        SpanKind::Free,
        SpanKind::Padding,
        SpanKind::Header,
        SpanKind::Metadata,
        SpanKind::Opaque,
    ];

    /// The kind's name in lower case, as the legends print it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            SpanKind::Live => "live",
            SpanKind::Free => "free",
            SpanKind::Padding => "padding",
            SpanKind::Header => "header",
            SpanKind::Metadata => "metadata",
            SpanKind::Opaque => "opaque",
        }
    }

    /// Index in [`SpanKind::ALL`].
    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for SpanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A run of bytes of one kind inside a [`Block`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// What the bytes hold.
    pub kind: SpanKind,
    /// Offset of the first byte from the block's start.
    pub offset: usize,
    /// Bytes in the span, never zero.
    pub len: usize,
}

impl Span {
    /// One past the span's last byte, as an offset from the block's start.
    #[must_use]
    pub const fn end(&self) -> usize {
        self.offset + self.len
    }
}

/// One allocation of a container (a page, a chunk, a region, a side
/// table): an address range cut into spans.
///
/// Spans are appended in address order with [`push`](Self::push) and
/// [`push_to`](Self::push_to), so they never overlap and never leave a gap:
/// the block's length is where the last span ends. Adjacent spans of one
/// kind are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// What the block is ("page 3", "key table").
    label: String,
    /// Address of the first byte.
    address: usize,
    /// Invariant: consecutive, starting at offset 0, each non-empty, no two
    /// neighbours of one kind.
    spans: Vec<Span>,
}

impl Block {
    /// An empty block at `address`, labelled `label`.
    #[must_use]
    pub fn new(label: impl Into<String>, address: usize) -> Self {
        Block {
            label: label.into(),
            address,
            spans: Vec::new(),
        }
    }

    /// Appends `len` bytes of `kind` (nothing when `len` is 0).
    pub fn push(&mut self, kind: SpanKind, len: usize) -> &mut Self {
        if len == 0 {
            return self;
        }
        match self.spans.last_mut() {
            Some(last) if last.kind == kind => last.len += len,
            _ => {
                let offset = self.len();
                self.spans.push(Span { kind, offset, len });
            }
        }
        self
    }

    /// Appends bytes of `kind` up to offset `end` from the block's start
    /// (nothing when the block already reaches it).
    ///
    /// # Panics
    ///
    /// When the block already extends past `end`: the spans would overlap.
    #[track_caller]
    pub fn push_to(&mut self, kind: SpanKind, end: usize) -> &mut Self {
        let len = self.len();
        assert!(
            end >= len,
            "memory map block {:?}: a span up to offset {end} overlaps the {len} bytes already mapped",
            self.label
        );
        self.push(kind, end - len)
    }

    /// What the block is.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Address of the block's first byte.
    #[must_use]
    pub fn address(&self) -> usize {
        self.address
    }

    /// Bytes in the block: where its last span ends.
    #[must_use]
    pub fn len(&self) -> usize {
        self.spans.last().map_or(0, Span::end)
    }

    /// Whether the block has no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The spans, in address order.
    #[must_use]
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Bytes of `kind` in the block.
    #[must_use]
    pub fn bytes(&self, kind: SpanKind) -> usize {
        self.spans
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.len)
            .sum()
    }

    /// Bytes of the block's header ([`SpanKind::Header`]).
    #[must_use]
    pub fn header_bytes(&self) -> usize {
        self.bytes(SpanKind::Header)
    }

    /// Bytes of each kind in `cells` equal slices of the block (the last
    /// slices are empty when the block has fewer bytes than cells), indexed
    /// as [`SpanKind::ALL`].
    pub(crate) fn cells(&self, cells: usize) -> Vec<[usize; 6]> {
        let mut out = alloc::vec![[0usize; 6]; cells];
        let len = self.len();
        if cells == 0 || len == 0 {
            return out;
        }
        // Cell `c` covers bytes `c * len / cells .. (c + 1) * len / cells`
        // (in u128, so no product overflows).
        let edge = |c: usize| (c as u128 * len as u128 / cells as u128) as usize;
        let mut cell = 0;
        for span in &self.spans {
            let mut at = span.offset;
            while at < span.end() {
                while edge(cell + 1) <= at && cell + 1 < cells {
                    cell += 1;
                }
                let stop = span.end().min(edge(cell + 1).max(at + 1));
                out[cell][span.kind.index()] += stop - at;
                at = stop;
            }
        }
        out
    }
}

/// The blocks a container holds, each cut into spans of one kind.
///
/// Made by every container's `memory_map(&self)`; see the [module
/// docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryMap {
    /// What the map shows (`"UniformPool<u64>"`).
    title: String,
    /// The blocks, in the container's order.
    blocks: Vec<Block>,
}

impl MemoryMap {
    /// An empty map titled `title`.
    #[must_use]
    pub fn new(title: impl Into<String>) -> Self {
        MemoryMap {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// Adds `block` at the end (an empty block is left out).
    pub fn push(&mut self, block: Block) -> &mut Self {
        if !block.is_empty() {
            self.blocks.push(block);
        }
        self
    }

    /// Adds a block of `len` bytes of one kind.
    pub fn push_uniform(
        &mut self,
        label: impl Into<String>,
        address: usize,
        kind: SpanKind,
        len: usize,
    ) -> &mut Self {
        let mut block = Block::new(label, address);
        block.push(kind, len);
        self.push(block)
    }

    /// Replaces the title.
    pub fn set_title(&mut self, title: impl Into<String>) -> &mut Self {
        self.title = title.into();
        self
    }

    /// What the map shows.
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The blocks.
    #[must_use]
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Bytes of `kind` over all blocks.
    #[must_use]
    pub fn bytes(&self, kind: SpanKind) -> usize {
        self.blocks.iter().map(|b| b.bytes(kind)).sum()
    }

    /// Bytes of all blocks.
    #[must_use]
    pub fn reserved_bytes(&self) -> usize {
        self.blocks.iter().map(Block::len).sum()
    }

    /// Bytes of live values ([`SpanKind::Live`]).
    #[must_use]
    pub fn live_bytes(&self) -> usize {
        self.bytes(SpanKind::Live)
    }

    /// Spans of `kind` over all blocks: for free bytes, how many separate
    /// runs they are in (more runs than blocks: fragmented).
    #[must_use]
    pub fn runs(&self, kind: SpanKind) -> usize {
        self.blocks
            .iter()
            .flat_map(|b| b.spans())
            .filter(|s| s.kind == kind)
            .count()
    }

    /// The figures in one line: blocks, bytes, and each kind's share (and,
    /// when free bytes are in more runs than there are blocks, how many).
    ///
    /// ```
    /// use managed::memory_map::{MemoryMap, SpanKind};
    ///
    /// let mut map = MemoryMap::new("two pages");
    /// map.push_uniform("page 0", 0x1000, SpanKind::Live, 3072)
    ///     .push_uniform("page 1", 0x2000, SpanKind::Free, 1024);
    /// assert_eq!(
    ///     map.caption(),
    ///     "2 blocks, 4096 bytes: live 3072 (75.0%), free 1024 (25.0%)"
    /// );
    /// ```
    #[must_use]
    pub fn caption(&self) -> String {
        use core::fmt::Write;
        let total = self.reserved_bytes();
        let mut s = String::new();
        let blocks = self.blocks.len();
        let _ = write!(
            s,
            "{blocks} block{}, {total} bytes",
            if blocks == 1 { "" } else { "s" }
        );
        let mut first = true;
        for kind in SpanKind::ALL {
            let bytes = self.bytes(kind);
            if bytes > 0 {
                let share = bytes as f64 * 100.0 / total as f64;
                let _ = write!(
                    s,
                    "{}{kind} {bytes} ({share:.1}%)",
                    if first { ": " } else { ", " }
                );
                let runs = self.runs(kind);
                if kind == SpanKind::Free && runs > self.blocks.len() {
                    let _ = write!(s, " in {runs} runs");
                }
                first = false;
            }
        }
        s
    }

    /// An SVG picture of the map: one row per block (at most
    /// [`MAX_ROWS`](Self::MAX_ROWS); a last line sums up the rest), as wide
    /// as the largest block, its spans coloured by kind, each row labelled
    /// with its block's label and size; the title above, a legend and the
    /// figures ([`caption`](Self::caption)) below. Addresses are left out,
    /// so the picture of the same layout is the same on every run.
    ///
    /// Several maps in one picture (before and after): [`svg_of`].
    #[must_use]
    pub fn to_svg(&self) -> String {
        svg_of(&[self])
    }

    /// At most this many rows (blocks) in a picture; the rest are summed up
    /// in one line.
    pub const MAX_ROWS: usize = 48;

    /// A text picture of the map, at most `width` columns wide (at least
    /// 40): the title, one line per block (at most
    /// [`MAX_ROWS`](Self::MAX_ROWS)) with a bar as long as the block is
    /// large next to the largest, each character showing the kind that
    /// covers most of its bytes (`█` live, `·` free, `░` padding, `▓`
    /// header, `▒` metadata, `╱` opaque; `▌` for a cell at least a quarter
    /// live whose live bytes are not the most, so that values scattered
    /// among holes stay visible), then the legend and the figures.
    #[must_use]
    pub fn to_terminal(&self, width: usize) -> String {
        terminal::render(self, width, false)
    }

    /// [`to_terminal`](Self::to_terminal) in ANSI colours (the characters
    /// are the same, coloured as in [`to_svg`](Self::to_svg)).
    #[must_use]
    pub fn to_ansi(&self, width: usize) -> String {
        terminal::render(self, width, true)
    }
}

impl fmt::Display for MemoryMap {
    /// [`to_terminal`](Self::to_terminal), 80 columns wide.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_terminal(80))
    }
}

/// `bytes` in the largest binary unit that keeps it whole or at one
/// decimal: "512 B", "16 KiB", "1.5 MiB".
pub(crate) fn human(bytes: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    let mut value = bytes as f64;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    // `f64::fract` needs `std`; `value` is non-negative and below 2^64.
    if unit == 0 || value == (value as u64) as f64 {
        alloc::format!("{value:.0} {}", UNITS[unit])
    } else {
        alloc::format!("{value:.1} {}", UNITS[unit])
    }
}

/// The name of `T` without module paths: `Vec<String>`, not
/// `alloc::vec::Vec<alloc::string::String>`.
pub(crate) fn type_name<T: ?Sized>() -> String {
    let full = core::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    // Where the path being read started in `out`.
    let mut start = 0;
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.truncate(start);
        } else {
            out.push(c);
            if !(c.is_alphanumeric() || c == '_') {
                start = out.len();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(type_name::<u64>(), "u64");
        assert_eq!(
            type_name::<Vec<(String, Option<&str>)>>(),
            "Vec<(String, Option<&str>)>"
        );
        assert_eq!(type_name::<dyn core::fmt::Debug>(), "dyn Debug");
    }

    #[test]
    fn spans_merge_cover_and_refuse_to_overlap() {
        let mut b = Block::new("page", 0x1000);
        b.push(SpanKind::Header, 16)
            .push(SpanKind::Live, 8)
            .push(SpanKind::Live, 8)
            .push(SpanKind::Free, 0)
            .push_to(SpanKind::Free, 64)
            .push_to(SpanKind::Free, 64);
        assert_eq!(
            b.spans(),
            [
                Span {
                    kind: SpanKind::Header,
                    offset: 0,
                    len: 16
                },
                Span {
                    kind: SpanKind::Live,
                    offset: 16,
                    len: 16
                },
                Span {
                    kind: SpanKind::Free,
                    offset: 32,
                    len: 32
                },
            ]
        );
        assert_eq!((b.len(), b.header_bytes()), (64, 16));
        let overlap = std::panic::catch_unwind(move || {
            b.clone().push_to(SpanKind::Live, 63);
        });
        assert!(overlap.is_err());
    }

    #[test]
    fn cells_split_bytes_proportionally() {
        let mut b = Block::new("b", 0);
        b.push(SpanKind::Header, 10).push(SpanKind::Live, 30);
        let cells = b.cells(4);
        assert_eq!(cells[0][SpanKind::Header.index()], 10);
        assert_eq!(cells[1][SpanKind::Live.index()], 10);
        assert_eq!(cells.iter().flatten().sum::<usize>(), 40);
        // More cells than bytes: each byte lands in one cell.
        let mut tiny = Block::new("t", 0);
        tiny.push(SpanKind::Live, 3);
        let cells = tiny.cells(8);
        assert_eq!(cells.iter().flatten().sum::<usize>(), 3);
        assert_eq!(
            cells.iter().filter(|c| c.iter().sum::<usize>() > 0).count(),
            3
        );
    }

    #[test]
    fn empty_blocks_are_left_out_and_figures_add_up() {
        let mut map = MemoryMap::new("m");
        map.push(Block::new("empty", 0))
            .push_uniform("a", 0, SpanKind::Live, 100)
            .push_uniform("b", 0, SpanKind::Padding, 28);
        assert_eq!(map.blocks().len(), 2);
        assert_eq!((map.live_bytes(), map.reserved_bytes()), (100, 128));
        assert_eq!(
            map.caption(),
            "2 blocks, 128 bytes: live 100 (78.1%), padding 28 (21.9%)"
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(16 << 10), "16 KiB");
        assert_eq!(human(3 << 19), "1.5 MiB");
    }
}
