//! A long-running text editor whose document lives in a compacting region.
//!
//! Every line is a shared slice of bytes (`Forward<'id, [u8]>`): editing
//! grows or shrinks it in place, or moves it when it outgrows its space.
//! The document's line list, the cursors, the search panel's hits, the undo
//! history and a per-line word-count cache all hold copies of those
//! `Forward`s, and every copy follows its line through every move and
//! compaction. The editor owns its region and compacts it from a method
//! when the holes pass a quarter of the capacity; its allocations go
//! through `Arena::or_compact`, which compacts the full region and
//! retries. A plain `Vec<Vec<u8>>` model
//! runs beside it: after every compaction the document, the cursors, the
//! marks and the cache must agree with it.
//!
//! Run with `cargo run --example region_editor`.

use std::collections::HashMap;

use managed::prelude::*;

/// A line of text: a shared slice that every handle to it follows.
type Line<'id> = Forward<'id, [u8]>;

/// What an allocation that compacted the full region and still failed
/// means here.
const FITS: &str = "the live document fits the region";

/// Undo entries kept; the oldest is forgotten (and its snapshot freed).
const UNDO_DEPTH: usize = 64;
/// The document stays under this many lines, each under this many bytes.
const MAX_LINES: usize = 200;
const MAX_LEN: usize = 120;

/// A cursor: a line and a column in it; it follows its line.
type Cursor<'id> = (Line<'id>, usize);

/// One undoable text edit: the line, and a copy of its text before the
/// edit (in the region too).
type Undo<'id> = (Line<'id>, Line<'id>);

struct Editor<'id> {
    arena: Arena<'id, 0>,
    state: State<'id>,
    lines: Vec<Line<'id>>,
    cursors: Vec<Cursor<'id>>,
    undo: Vec<Undo<'id>>,
    /// Words per line, counted on demand and forgotten when the line changes.
    words: HashMap<Line<'id>, usize>,
    /// Compactions the editor ran itself, and lines found at a new
    /// address after one.
    compactions: u64,
    moves: usize,
}

impl<'id> Editor<'id> {
    /// An editor with one empty line and `cursors` cursors on it.
    fn new(guard: Guard<'id>, capacity: usize, cursors: usize) -> Self {
        let (arena, state) = Arena::with_capacity(guard, capacity);
        let line = arena.alloc_shared_slice(&state, b"").expect("room");
        let (lines, cursors) = (vec![line], vec![(line, 0); cursors]);
        let (undo, words) = (Vec::new(), HashMap::new());
        let (compactions, moves) = (0, 0);
        Editor {
            arena,
            state,
            lines,
            cursors,
            undo,
            words,
            compactions,
            moves,
        }
    }

    /// The region's shared allocations that compact it when it is full.
    fn room(&mut self) -> OrCompact<'_, 'id, 0> {
        self.arena.or_compact(&mut self.state)
    }

    /// Slides every object down; every handle keeps reaching its line.
    fn compact(&mut self) {
        let at: Vec<*const u8> = self.lines.iter().map(|&l| self.arena[l].as_ptr()).collect();
        self.arena.compact_in_place(&mut self.state);
        self.compactions += 1;
        for (&line, at) in self.lines.iter().zip(at) {
            self.moves += usize::from(self.arena[line].as_ptr() != at);
        }
        assert_eq!(self.arena.detailed_stats().hole_bytes, 0);
    }

    /// Compacts when the holes pass a quarter of the region.
    fn compact_if_holey(&mut self) {
        let stats = self.arena.detailed_stats();
        if stats.hole_bytes > stats.capacity / 4 {
            self.compact();
        }
    }

    fn insert_line(&mut self, at: usize, text: &[u8]) {
        let line = self.room().alloc_shared_slice(text).expect(FITS);
        self.lines.insert(at, line);
    }

    /// Deletes line `at` (not the only one); its cursors go to the start of
    /// the line that takes its place. Marks on it see it gone.
    fn delete_line(&mut self, at: usize) {
        let line = self.lines.remove(at);
        let heir = self.lines[at.min(self.lines.len() - 1)];
        move_cursors(&mut self.cursors, |c| (c.0 == line).then_some((heir, 0)));
        self.words.remove(&line);
        assert!(self.arena.remove_slice(line));
    }

    /// Replaces `n` bytes at `col` of line `at` with `text`, keeping the
    /// line's text before the edit for `undo`.
    fn splice(&mut self, at: usize, col: usize, n: usize, text: &[u8]) {
        let line = self.lines[at];
        let len = self.arena[line].len();
        let before = self.room().copy_shared(line, 0..len).expect(FITS);
        self.undo.push((line, before));
        if self.undo.len() > UNDO_DEPTH {
            let oldest = self.undo.remove(0);
            self.arena.remove_slice(oldest.1);
        }
        self.replace(line, col, n, text);
    }

    /// Replaces `n` bytes at `col` of `line` with `text`: the cursors after
    /// `col` keep their place in the text that follows.
    fn replace(&mut self, line: Line<'id>, col: usize, n: usize, text: &[u8]) {
        self.room()
            .splice_shared(line, col..col + n, text)
            .expect(FITS);
        move_cursors(&mut self.cursors, |c| spliced(c, line, col, n, text.len()));
        self.words.remove(&line);
    }

    /// Splits line `at` at `col`: the tail becomes the next line, and the
    /// cursors at or after `col` go with it.
    fn split_line(&mut self, at: usize, col: usize) {
        let line = self.lines[at];
        let len = self.arena[line].len();
        let tail = self.room().copy_shared(line, col..len).expect(FITS);
        let shrunk = self.arena.resize_shared(&self.state, line, col, 0);
        shrunk.expect("a slice shrinks in place");
        self.lines.insert(at + 1, tail);
        self.words.remove(&line);
        let to_tail = |c: Cursor<'id>| (c.0 == line && c.1 >= col).then(|| (tail, c.1 - col));
        move_cursors(&mut self.cursors, to_tail);
    }

    /// Appends line `at + 1` to line `at`, cursors included.
    fn join_lines(&mut self, at: usize) {
        let (line, next) = (self.lines[at], self.lines[at + 1]);
        let (len, more) = (self.arena[line].len(), self.arena[next].len());
        self.room().resize_shared(line, len + more, 0).expect(FITS);
        let [line_text, next_text] = self
            .arena
            .get_disjoint_mut([line, next])
            .expect("two lines");
        line_text[len..].copy_from_slice(next_text);
        move_cursors(&mut self.cursors, |c| {
            (c.0 == next).then_some((line, len + c.1))
        });
        self.words.remove(&line);
        self.delete_line(at + 1);
    }

    /// Restores the text the last text edit changed, if its line still exists.
    fn undo(&mut self) {
        if let Some((line, before)) = self.undo.pop() {
            if self.arena.contains(line) {
                // The line takes its old text back (the two cells trade
                // their objects: nothing is copied); the edited text goes.
                let (edited, restored) = (self.arena[line].len(), self.arena[before].len());
                self.arena.swap_shared(line, before);
                move_cursors(&mut self.cursors, |c| spliced(c, line, 0, edited, restored));
                self.words.remove(&line);
            }
            self.arena.remove_slice(before);
        }
    }

    fn apply(&mut self, edit: &Edit) {
        match *edit {
            Edit::InsertLine(at, ref text) => self.insert_line(at, text),
            Edit::DeleteLine(at) => self.delete_line(at),
            Edit::Splice(at, col, n, ref text) => self.splice(at, col, n, text),
            Edit::Split(at, col) => self.split_line(at, col),
            Edit::Join(at) => self.join_lines(at),
            Edit::Undo => self.undo(),
        }
    }

    fn word_count(&mut self, at: usize) -> usize {
        let line = self.lines[at];
        *self
            .words
            .entry(line)
            .or_insert_with(|| count_words(&self.arena[line]))
    }

    fn find(&self, needle: &[u8]) -> Vec<Line<'id>> {
        let found = |l: &Line<'id>| self.arena[*l].windows(needle.len()).any(|w| w == needle);
        self.lines.iter().copied().filter(found).collect()
    }
}

/// An editing command, by line number and column.
#[derive(Debug)]
enum Edit {
    InsertLine(usize, Vec<u8>),
    DeleteLine(usize),
    /// Line, column, bytes removed, text inserted.
    Splice(usize, usize, usize, Vec<u8>),
    Split(usize, usize),
    Join(usize),
    Undo,
}

/// The search panel, another part of the program: the lines that matched.
struct SearchPanel<'id> {
    hits: Vec<Line<'id>>,
}

/// Moves the cursors `f` gives a new place.
fn move_cursors<L: Copy>(cursors: &mut [(L, usize)], f: impl Fn((L, usize)) -> Option<(L, usize)>) {
    cursors.iter_mut().for_each(|c| *c = f(*c).unwrap_or(*c));
}

/// Where a cursor goes when `n` bytes at `col` of `line` are replaced by
/// `len` bytes: after `col`, it keeps its place in the text that follows.
fn spliced<L: Copy + PartialEq>(
    c: (L, usize),
    line: L,
    col: usize,
    n: usize,
    len: usize,
) -> Option<(L, usize)> {
    (c.0 == line && c.1 > col).then(|| (line, c.1.saturating_sub(n).max(col) + len))
}

fn count_words(text: &[u8]) -> usize {
    text.split(|&b| b == b' ').filter(|w| !w.is_empty()).count()
}

/// The same document as plain vectors; lines are referred to by number.
#[derive(Default)]
struct Model {
    lines: Vec<Vec<u8>>,
    cursors: Vec<(usize, usize)>,
    hits: Vec<Option<usize>>,
    undo: Vec<(Option<usize>, Vec<u8>)>,
}

impl Model {
    fn apply(&mut self, edit: &Edit) {
        match *edit {
            Edit::InsertLine(at, ref text) => self.insert_line(at, text.clone()),
            Edit::DeleteLine(at) => self.delete_line(at),
            Edit::Splice(at, col, n, ref text) => {
                self.undo.push((Some(at), self.lines[at].clone()));
                if self.undo.len() > UNDO_DEPTH {
                    self.undo.remove(0);
                }
                self.lines[at].splice(col..col + n, text.iter().copied());
                move_cursors(&mut self.cursors, |c| spliced(c, at, col, n, text.len()));
            }
            Edit::Split(at, col) => {
                let tail = self.lines[at].split_off(col);
                self.insert_line(at + 1, tail);
                move_cursors(&mut self.cursors, |c| {
                    (c.0 == at && c.1 >= col).then(|| (at + 1, c.1 - col))
                });
            }
            Edit::Join(at) => {
                let len = self.lines[at].len();
                move_cursors(&mut self.cursors, |c| {
                    (c.0 == at + 1).then_some((at, len + c.1))
                });
                let next = self.lines[at + 1].clone();
                self.lines[at].extend(next);
                self.delete_line(at + 1);
            }
            Edit::Undo => {
                if let Some((Some(at), before)) = self.undo.pop() {
                    let n = self.lines[at].len();
                    move_cursors(&mut self.cursors, |c| spliced(c, at, 0, n, before.len()));
                    self.lines[at] = before;
                }
            }
        }
    }

    /// Renumbers the marks: `f` gives a line's new number, `None` if deleted.
    fn renumber(&mut self, f: impl Fn(usize) -> Option<usize>) {
        let undo = self.undo.iter_mut().map(|u| &mut u.0);
        self.hits
            .iter_mut()
            .chain(undo)
            .for_each(|m| *m = m.and_then(&f));
    }

    fn insert_line(&mut self, at: usize, text: Vec<u8>) {
        self.lines.insert(at, text);
        self.renumber(|i| Some(i + usize::from(i >= at)));
        move_cursors(&mut self.cursors, |c| (c.0 >= at).then_some((c.0 + 1, c.1)));
    }

    fn delete_line(&mut self, at: usize) {
        self.lines.remove(at);
        self.renumber(|i| (i != at).then_some(i - usize::from(i > at)));
        let heir = at.min(self.lines.len() - 1);
        let shift = |c: (usize, usize)| if c.0 == at { (heir, 0) } else { (c.0 - 1, c.1) };
        move_cursors(&mut self.cursors, |c| (c.0 >= at).then(|| shift(c)));
    }
}

/// The editor's document, cursors, marks and cache must match the model.
fn check<'id>(ed: &Editor<'id>, panel: &SearchPanel<'id>, model: &Model) {
    let doc: Vec<&[u8]> = ed.lines.iter().map(|&l| &ed.arena[l]).collect();
    assert_eq!(doc, model.lines);
    // `Forward`s are stable map keys: number the lines once.
    let numbers: HashMap<Line<'id>, usize> =
        ed.lines.iter().enumerate().map(|(i, &l)| (l, i)).collect();
    let number = |line| numbers.get(&line).copied();
    let cursors: Vec<_> = ed
        .cursors
        .iter()
        .map(|&(l, c)| (number(l).unwrap(), c))
        .collect();
    assert_eq!(cursors, model.cursors);
    let hits: Vec<_> = panel.hits.iter().map(|&l| number(l)).collect();
    assert_eq!(hits, model.hits);
    assert_eq!(ed.undo.len(), model.undo.len());
    for (&(line, before), (at, text)) in ed.undo.iter().zip(&model.undo) {
        assert_eq!((number(line), ed.arena.contains(line)), (*at, at.is_some()));
        assert_eq!(ed.arena[before], text[..]);
    }
    for (&line, &words) in &ed.words {
        let at = number(line).expect("only lines of the document are cached");
        assert_eq!(words, count_words(&model.lines[at]));
    }
    let stats = ed.arena.detailed_stats();
    assert_eq!(stats.live_objects, ed.lines.len() + ed.undo.len());
}

/// A tiny xorshift64 generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// One to eight letters and spaces.
    fn text(&mut self) -> Vec<u8> {
        (0..1 + self.below(8))
            .map(|_| b"abcdef  "[self.below(8)])
            .collect()
    }
}

/// Runs thousands of seeded edits, checking the editor against the model.
pub(crate) fn main() {
    make_guard!(guard);
    // Small, so that it fills now and then between compactions.
    let mut ed = Editor::new(guard, 10 << 10, 4);
    let mut panel = SearchPanel { hits: Vec::new() };
    let (lines, cursors) = (vec![Vec::new()], vec![(0, 0); 4]);
    let mut model = Model {
        lines,
        cursors,
        ..Model::default()
    };
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut edits, mut checks) = (0, 0);
    for _ in 0..20_000 {
        let (n, at) = (ed.lines.len(), rng.below(ed.lines.len()));
        let len = model.lines[at].len();
        let edit = match rng.below(13) {
            0 | 1 if n < MAX_LINES => Edit::InsertLine(at, rng.text()),
            2..=5 if len < MAX_LEN => Edit::Splice(at, rng.below(len + 1), 0, rng.text()),
            6 | 7 if len > 0 => {
                let col = rng.below(len);
                Edit::Splice(at, col, 1 + rng.below((len - col).min(6)), Vec::new())
            }
            8 if len >= 32 => Edit::Split(at, rng.below(len + 1)),
            9 if at + 1 < n && len + model.lines[at + 1].len() <= MAX_LEN => Edit::Join(at),
            0 | 1 | 10 if n > 1 => Edit::DeleteLine(at),
            11 => {
                // Other parts of the program: move a cursor, count words, search.
                let k = rng.below(ed.cursors.len());
                ed.cursors[k] = (ed.lines[at], len / 2);
                model.cursors[k] = (at, len / 2);
                assert_eq!(ed.word_count(at), count_words(&model.lines[at]));
                let needle = [b"abcdef"[rng.below(6)], b"abcdef"[rng.below(6)]];
                panel.hits = ed.find(&needle);
                let hit = |(i, l): (usize, &Vec<u8>)| {
                    l.windows(2).any(|w| w == needle).then_some(Some(i))
                };
                model.hits = model.lines.iter().enumerate().filter_map(hit).collect();
                continue;
            }
            _ => Edit::Undo,
        };
        let compactions = ed.arena.detailed_stats().compactions;
        ed.apply(&edit);
        model.apply(&edit);
        edits += 1;
        ed.compact_if_holey();
        if ed.arena.detailed_stats().compactions != compactions {
            check(&ed, &panel, &model);
            checks += 1;
        }
    }
    ed.compact();
    check(&ed, &panel, &model);
    let compactions = ed.arena.detailed_stats().compactions;
    let forced = compactions - ed.compactions;
    assert!(forced > 0 && ed.compactions > forced && ed.moves > 0);
    let bytes: usize = model.lines.iter().map(Vec::len).sum();
    println!(
        "{edits} edits: {} lines, {bytes} bytes of text",
        ed.lines.len()
    );
    let moves = ed.moves;
    println!(
        "{compactions} compactions ({forced} when the region was full), {moves} line moves seen"
    );
    println!("{} checks against the model after compacting", checks + 1);
    let (hits, undo, cached) = (panel.hits.len(), ed.undo.len(), ed.words.len());
    println!("{hits} search hits, {undo} undo entries, {cached} cached word counts");
    println!("region: {}", ed.arena.detailed_stats());
}
