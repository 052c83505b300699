//! A spreadsheet's recalculation engine on the garbage-collected heap.
//!
//! Sheets, cells and formula trees are `#[derive(Managed)]` structs linked
//! by `Gc` handles (a number typed in a cell is a one-node formula): a
//! formula points at the cells it reads, each cell lists the cells whose
//! formulas read it and points back at its sheet, so the graph is full of
//! cycles. Formulas name cells by handle, not by address:
//! inserting or deleting rows moves no reference, and a formula reading a
//! deleted cell shows `#REF!` while that cell lives on, until the formula
//! changes or an undo puts the row back.
//!
//! An edit recalculates what it changed and everything downstream, in
//! dependency order, each cell written while its inputs are read
//! (`split_mut`); a sheet renumbers its rows and swaps cells through its
//! `Others`. Outside the heap: the cursor (a `Held`), an undo stack of
//! closures holding what they restore (`Held`), and a "recently viewed"
//! list of `HeldWeak` handles, which forgets deleted cells.
//!
//! Thousands of scripted edits (numbers, formulas, swaps, rows and sheets
//! inserted and deleted, undo) are checked against a std-only model that
//! evaluates every cell from scratch. The heap collects when due, and is
//! compacted after a large deletion, which its figures show packed.
//!
//! Run with `cargo run --example spreadsheet`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::mem;
use std::time::Instant;

use managed::prelude::*;

const COLS: usize = 5;
const UNDO_DEPTH: usize = 24;
const RECENT: usize = 12;
const EDITS: usize = 8000;

type CellRef<'gc> = Gc<'gc, Cell<'gc>>;
type SheetRef<'gc> = Gc<'gc, Sheet<'gc>>;
type ExprRef<'gc> = Gc<'gc, Expr<'gc>>;

/// A formula's syntax tree, shared by its cell and the undo entries.
#[derive(Managed)]
enum Expr<'gc> {
    Num(i64),
    Ref(CellRef<'gc>),
    Add(ExprRef<'gc>, ExprRef<'gc>),
    Sum(Vec<CellRef<'gc>>),
}

#[derive(Managed)]
struct Cell<'gc> {
    /// Stable for the cell's life (the model's key).
    id: u32,
    sheet: SheetRef<'gc>,
    row: usize,
    col: usize,
    /// What was typed: a number is an `Expr::Num`.
    formula: ExprRef<'gc>,
    /// `None` is `#REF!`.
    value: Option<i64>,
    deleted: bool,
    /// The cells whose formulas read this one.
    dependents: Vec<CellRef<'gc>>,
}

#[derive(Managed)]
struct Sheet<'gc> {
    name: String,
    rows: Vec<Vec<CellRef<'gc>>>,
}

#[derive(Managed, Default)]
struct Book<'gc> {
    sheets: Vec<SheetRef<'gc>>,
    cells_made: u32,
    sheets_made: u32,
}

/// Undoes one edit, with the handles it restores held inside.
type Undo = Box<dyn for<'gc> FnOnce(&mut Mutation<'gc>, &mut Book<'gc>)>;

/// A formula as typed, with cell positions, or as the model keeps it, with ids.
#[derive(Clone, Debug)]
enum F<R> {
    Num(i64),
    Ref(R),
    Add(Box<F<R>>, Box<F<R>>),
    Sum(Vec<R>),
}

type Pos = (usize, usize);

#[derive(Debug)]
enum Edit {
    Formula(usize, Pos, F<Pos>),
    Swap(usize, Pos, Pos),
    InsertRow(usize, usize),
    DeleteRow(usize, usize),
    AddSheet(usize),
    DeleteSheet(usize),
    View(usize, Pos),
    Undo,
    /// Keep two sheets, drop the others and the undo history.
    Archive,
}

fn initial(id: u32) -> i64 {
    i64::from(id % 19) - 9
}

fn new_row<'gc>(
    mc: &Mutation<'gc>,
    book: &mut Book<'gc>,
    sheet: SheetRef<'gc>,
    row: usize,
) -> Vec<CellRef<'gc>> {
    (0..COLS)
        .map(|col| {
            book.cells_made += 1;
            let (id, dependents) = (book.cells_made, Vec::new());
            let formula = Gc::new(mc, Expr::Num(initial(id)));
            Gc::new(
                mc,
                Cell {
                    id,
                    sheet,
                    row,
                    col,
                    formula,
                    value: Some(initial(id)),
                    deleted: false,
                    dependents,
                },
            )
        })
        .collect()
}

fn add_sheet<'gc>(mc: &mut Mutation<'gc>, book: &mut Book<'gc>, rows: usize) -> SheetRef<'gc> {
    book.sheets_made += 1;
    let name = format!("Sheet{}", book.sheets_made);
    let sheet = Gc::new(
        mc,
        Sheet {
            name,
            rows: Vec::new(),
        },
    );
    for r in 0..rows {
        let row = new_row(mc, book, sheet, r);
        mc[sheet].rows.push(row);
    }
    book.sheets.push(sheet);
    sheet
}

fn cell_at<'gc>(mc: &Mutation<'gc>, book: &Book<'gc>, sheet: usize, (r, c): Pos) -> CellRef<'gc> {
    mc[book.sheets[sheet]].rows[r][c]
}

fn build<'gc>(mc: &Mutation<'gc>, sheet: &Sheet<'gc>, f: &F<Pos>) -> ExprRef<'gc> {
    let at = |&(r, c): &Pos| sheet.rows[r][c];
    let expr = match f {
        F::Num(n) => Expr::Num(*n),
        F::Ref(p) => Expr::Ref(at(p)),
        F::Add(a, b) => Expr::Add(build(mc, sheet, a), build(mc, sheet, b)),
        F::Sum(ps) => Expr::Sum(ps.iter().map(at).collect()),
    };
    Gc::new(mc, expr)
}

/// A formula's value, through any reader: the token (a formula bar inside
/// `heap.read`) or the `Others` of the cell being recalculated.
fn eval<'gc>(r: &impl Reader<'gc>, e: ExprRef<'gc>) -> Option<i64> {
    Some(match r.read(e) {
        Expr::Num(n) => *n,
        Expr::Ref(c) => r.read(*c).value?,
        Expr::Add(a, b) => eval(r, *a)?.wrapping_add(eval(r, *b)?),
        Expr::Sum(cells) => {
            let mut sum = 0i64;
            for &c in cells {
                sum = sum.wrapping_add(r.read(c).value?);
            }
            sum
        }
    })
}

/// The cells a formula reads.
fn reads<'gc>(r: &impl Reader<'gc>, e: ExprRef<'gc>, out: &mut Vec<CellRef<'gc>>) {
    match r.read(e) {
        Expr::Num(_) => {}
        Expr::Ref(c) => out.push(*c),
        Expr::Add(a, b) => {
            reads(r, *a, out);
            reads(r, *b, out);
        }
        Expr::Sum(cells) => out.extend(cells),
    }
}

/// Adds `cell` to (or takes it out of) the dependents of the cells its formula reads.
fn link<'gc>(mc: &mut Mutation<'gc>, cell: CellRef<'gc>, add: bool) {
    let (c, mut others) = mc.split_mut(cell);
    let mut inputs = Vec::new();
    reads(&others, c.formula, &mut inputs);
    for input in inputs {
        let dependents = &mut others[input].dependents;
        if add {
            dependents.push(cell);
        } else {
            dependents.retain(|&d| d != cell);
        }
    }
}

/// Recomputes `changed` and every cell downstream of them, in dependency order.
fn recalc<'gc>(mc: &mut Mutation<'gc>, changed: &[CellRef<'gc>]) {
    type Seen<'gc> = HashSet<CellRef<'gc>>;
    fn visit<'gc>(
        mc: &Mutation<'gc>,
        c: CellRef<'gc>,
        seen: &mut Seen<'gc>,
        order: &mut Vec<CellRef<'gc>>,
    ) {
        if seen.insert(c) {
            for &d in &mc[c].dependents {
                visit(mc, d, seen, order);
            }
            order.push(c);
        }
    }
    let (mut seen, mut order) = (HashSet::new(), Vec::new());
    for &c in changed {
        visit(mc, c, &mut seen, &mut order);
    }
    for &c in order.iter().rev() {
        let (cell, others) = mc.split_mut(c);
        cell.value = if cell.deleted {
            None
        } else {
            eval(&others, cell.formula)
        };
    }
}

fn set_formula<'gc>(mc: &mut Mutation<'gc>, cell: CellRef<'gc>, formula: ExprRef<'gc>) -> Undo {
    let (held, old) = (mc.hold(cell), mc.hold(mc[cell].formula));
    link(mc, cell, false);
    mc[cell].formula = formula;
    link(mc, cell, true);
    recalc(mc, &[cell]);
    Box::new(move |mc, _| drop(set_formula(mc, mc.fetch(&held), mc.fetch(&old))))
}

impl<'gc> Sheet<'gc> {
    /// Gives the cells from row `from` on their row numbers.
    fn renumber(&self, others: &mut Others<'_, 'gc>, from: usize) {
        for (r, row) in self.rows.iter().enumerate().skip(from) {
            row.iter().for_each(|&c| others[c].row = r);
        }
    }

    /// Swaps the numbers typed in two cells (not formulas: one moved up
    /// could read a cell below it); returns the two, held.
    fn swap(&self, others: &mut Others<'_, 'gc>, p: Pos, q: Pos) -> [Held<Cell<'static>>; 2] {
        let pair = [self.rows[p.0][p.1], self.rows[q.0][q.1]];
        let [a, b] = others.get_disjoint_mut(pair).expect("two different cells");
        mem::swap(&mut a.formula, &mut b.formula);
        pair.map(|c| others.hold(c))
    }
}

fn insert_row<'gc>(
    mc: &mut Mutation<'gc>,
    sheet: SheetRef<'gc>,
    at: usize,
    row: Vec<CellRef<'gc>>,
) -> Undo {
    let (s, mut others) = mc.split_mut(sheet);
    s.rows.insert(at, row.clone());
    s.renumber(&mut others, at);
    for &c in &row {
        mc[c].deleted = false;
        link(mc, c, true);
    }
    recalc(mc, &row);
    let sheet = mc.hold(sheet);
    Box::new(move |mc, _| drop(delete_row(mc, mc.fetch(&sheet), at)))
}

fn delete_row<'gc>(mc: &mut Mutation<'gc>, sheet: SheetRef<'gc>, at: usize) -> Undo {
    let (s, mut others) = mc.split_mut(sheet);
    let row = s.rows.remove(at);
    s.renumber(&mut others, at);
    for &c in &row {
        link(mc, c, false);
        mc[c].deleted = true;
    }
    recalc(mc, &row);
    let sheet = mc.hold(sheet);
    let row: Vec<_> = row.into_iter().map(|c| mc.hold(c)).collect();
    Box::new(move |mc, _| {
        let row = row.iter().map(|c| mc.fetch(c)).collect();
        drop(insert_row(mc, mc.fetch(&sheet), at, row));
    })
}

/// The spreadsheet application: the book on the heap, the rest outside it.
struct App {
    heap: Heap<Book<'static>>,
    cursor: Held<Cell<'static>>,
    undo: VecDeque<Undo>,
    recent: VecDeque<HeldWeak<Cell<'static>>>,
}

impl App {
    fn new(rows: usize) -> App {
        let mut heap: Heap<Book<'static>> = Heap::with_chunk_size(16 << 10, |mc| {
            let mut book = Book::default();
            add_sheet(mc, &mut book, rows);
            book
        });
        heap.set_pacing(Pacing {
            min_bytes: 64 << 10,
            growth: 0.5,
        });
        let cursor = heap.mutate(|mc, book| mc.hold(cell_at(mc, book, 0, (0, 0))));
        App {
            heap,
            cursor,
            undo: VecDeque::new(),
            recent: VecDeque::new(),
        }
    }

    fn apply(&mut self, edit: &Edit) {
        let App {
            heap,
            cursor,
            undo,
            recent,
        } = self;
        let entry = heap.mutate(|mc, book| {
            let entry: Option<Undo> = match *edit {
                Edit::Formula(s, p, ref f) => {
                    let formula = build(mc, &mc[book.sheets[s]], f);
                    Some(set_formula(mc, cell_at(mc, book, s, p), formula))
                }
                Edit::Swap(s, p, q) => {
                    let (sheet, mut others) = mc.split_mut(book.sheets[s]);
                    let pair = sheet.swap(&mut others, p, q);
                    recalc(mc, &pair.each_ref().map(|c| mc.fetch(c)));
                    Some(Box::new(move |mc, _| {
                        let pair = pair.each_ref().map(|c| mc.fetch(c));
                        let [a, b] = mc.get_disjoint_mut(pair);
                        mem::swap(&mut a.formula, &mut b.formula);
                        recalc(mc, &pair);
                    }))
                }
                Edit::InsertRow(s, at) => {
                    let row = new_row(mc, book, book.sheets[s], at);
                    Some(insert_row(mc, book.sheets[s], at, row))
                }
                Edit::DeleteRow(s, at) => Some(delete_row(mc, book.sheets[s], at)),
                Edit::AddSheet(rows) => {
                    let sheet = add_sheet(mc, book, rows);
                    let sheet = mc.hold(sheet);
                    Some(Box::new(move |mc, book| {
                        book.sheets.retain(|&s| s != mc.fetch(&sheet))
                    }))
                }
                Edit::DeleteSheet(s) => {
                    let sheet = mc.hold(book.sheets.remove(s));
                    Some(Box::new(move |mc, book| {
                        book.sheets.insert(s, mc.fetch(&sheet))
                    }))
                }
                Edit::View(s, p) => {
                    let c = cell_at(mc, book, s, p);
                    *cursor = mc.hold(c);
                    let weak = mc.hold_weak(c);
                    recent.retain(|w| *w != weak);
                    recent.push_front(weak);
                    recent.truncate(RECENT);
                    None
                }
                Edit::Undo => {
                    if let Some(entry) = undo.pop_back() {
                        entry(mc, book);
                    }
                    None
                }
                Edit::Archive => {
                    book.sheets.truncate(2);
                    undo.clear();
                    None
                }
            };
            // The cursor leaves a deleted row or sheet for the first cell.
            let at = mc.fetch(cursor);
            if mc[at].deleted || !book.sheets.contains(&mc[at].sheet) {
                *cursor = mc.hold(cell_at(mc, book, 0, (0, 0)));
            }
            entry
        });
        undo.extend(entry);
        if undo.len() > UNDO_DEPTH {
            undo.pop_front();
        }
    }

    /// Every sheet, row and cell against the model: values, positions, dependents.
    fn check(&self, model: &Model) {
        let (memo, readers) = (&mut HashMap::new(), model.readers());
        self.heap.read(|mc, book| {
            assert_eq!(book.sheets.len(), model.sheets.len());
            for (&sheet, (id, grid)) in book.sheets.iter().zip(&model.sheets) {
                assert_eq!(
                    (&mc[sheet].name, mc[sheet].rows.len()),
                    (&format!("Sheet{id}"), grid.len())
                );
                for (r, (row, ids)) in mc[sheet].rows.iter().zip(grid).enumerate() {
                    for (c, (&cell, &id)) in row.iter().zip(ids).enumerate() {
                        let cell = &mc[cell];
                        assert_eq!((cell.id, cell.row, cell.col, cell.sheet), (id, r, c, sheet));
                        assert_eq!(cell.value, model.value(id, memo), "{}", address(mc, cell));
                        // The formula bar: the same helper as the
                        // recalculation, reading through the token.
                        assert_eq!(eval(mc, cell.formula), cell.value);
                        let mut dependents: Vec<u32> =
                            cell.dependents.iter().map(|&d| mc[d].id).collect();
                        dependents.sort_unstable();
                        assert_eq!(dependents, readers.get(&id).cloned().unwrap_or_default());
                    }
                }
            }
            let at = &mc[&self.cursor];
            assert_eq!(mc[at.sheet].rows[at.row][at.col], mc.fetch(&self.cursor));
        });
    }

    /// Recently viewed cells still in a sheet are found where they moved
    /// to; once `archived`, those of a deleted sheet are forgotten.
    fn check_recent(&self, model: &Model, archived: bool) -> usize {
        let live: HashSet<u32> = model
            .sheets
            .iter()
            .flat_map(|s| s.1.iter().flatten().copied())
            .collect();
        let shown = |id: &u32| model.sheets.iter().any(|s| s.0 == model.cells[id].sheet);
        self.heap.read(|mc, _| {
            let mut forgotten = 0;
            for (weak, id) in self.recent.iter().zip(&model.recent) {
                match mc.upgrade(weak) {
                    Some(c) => assert!(mc[c].id == *id && (shown(id) || !archived)),
                    None => {
                        assert!(
                            !live.contains(id),
                            "cell {id} is in a sheet but was forgotten"
                        );
                        forgotten += 1;
                    }
                }
            }
            forgotten
        })
    }
}

fn address<'gc>(mc: &Mutation<'gc>, cell: &Cell<'gc>) -> String {
    format!(
        "{}!{}{}",
        mc[cell.sheet].name,
        char::from(b'A' + cell.col as u8),
        cell.row + 1
    )
}

#[derive(Clone)]
struct MCell {
    sheet: u32,
    formula: F<u32>,
    deleted: bool,
}

/// Each sheet's id and its rows of cell ids.
type Sheets = Vec<(u32, Vec<Vec<u32>>)>;

/// The same book in std containers, evaluated from scratch. An undo entry
/// is the sheets' rows before the edit and the cells it changed.
#[derive(Default)]
struct Model {
    cells: HashMap<u32, MCell>,
    sheets: Sheets,
    undo: VecDeque<(Sheets, Vec<(u32, MCell)>)>,
    recent: VecDeque<u32>,
    sheets_made: u32,
}

impl Model {
    fn value(&self, id: u32, memo: &mut HashMap<u32, Option<i64>>) -> Option<i64> {
        if let Some(&v) = memo.get(&id) {
            return v;
        }
        let cell = &self.cells[&id];
        let v = if cell.deleted {
            None
        } else {
            self.eval(&cell.formula, memo)
        };
        memo.insert(id, v);
        v
    }

    fn eval(&self, f: &F<u32>, memo: &mut HashMap<u32, Option<i64>>) -> Option<i64> {
        Some(match f {
            F::Num(n) => *n,
            F::Ref(id) => self.value(*id, memo)?,
            F::Add(a, b) => self.eval(a, memo)?.wrapping_add(self.eval(b, memo)?),
            F::Sum(ids) => {
                let mut sum = 0i64;
                for &id in ids {
                    sum = sum.wrapping_add(self.value(id, memo)?);
                }
                sum
            }
        })
    }

    /// For each cell, the cells in the sheets whose formulas read it (once per reference).
    fn readers(&self) -> HashMap<u32, Vec<u32>> {
        let mut readers: HashMap<u32, Vec<u32>> = HashMap::new();
        for &id in self.sheets.iter().flat_map(|s| s.1.iter().flatten()) {
            let f = &self.cells[&id].formula;
            f.map(&mut |&input| readers.entry(input).or_default().push(id));
        }
        readers.values_mut().for_each(|r| r.sort_unstable());
        readers
    }

    fn new_row(&mut self, sheet: u32) -> Vec<u32> {
        (0..COLS)
            .map(|_| {
                let id = self.cells.len() as u32 + 1;
                self.cells.insert(
                    id,
                    MCell {
                        sheet,
                        formula: F::Num(initial(id)),
                        deleted: false,
                    },
                );
                id
            })
            .collect()
    }

    fn add_sheet(&mut self, rows: usize) {
        self.sheets_made += 1;
        let grid = (0..rows).map(|_| self.new_row(self.sheets_made)).collect();
        self.sheets.push((self.sheets_made, grid));
    }

    /// The cell `id`, to change: its contents before go to `old`.
    fn cell(&mut self, id: u32, old: &mut Vec<(u32, MCell)>) -> &mut MCell {
        let cell = self.cells.get_mut(&id).unwrap();
        old.push((id, cell.clone()));
        cell
    }

    fn apply(&mut self, edit: &Edit) {
        let (sheets, mut old) = (self.sheets.clone(), Vec::new());
        let id = |m: &Model, s: usize, (r, c): Pos| m.sheets[s].1[r][c];
        match *edit {
            Edit::Formula(s, p, ref f) => {
                let f = f.map(&mut |&q| id(self, s, q));
                self.cell(id(self, s, p), &mut old).formula = f;
            }
            Edit::Swap(s, p, q) => {
                let (a, b) = (id(self, s, p), id(self, s, q));
                let x = self.cells[&a].formula.clone();
                self.cell(a, &mut old).formula =
                    mem::replace(&mut self.cell(b, &mut old).formula, x);
            }
            Edit::InsertRow(s, at) => {
                let row = self.new_row(self.sheets[s].0);
                self.sheets[s].1.insert(at, row);
            }
            Edit::DeleteRow(s, at) => {
                for id in self.sheets[s].1.remove(at) {
                    self.cell(id, &mut old).deleted = true;
                }
            }
            Edit::AddSheet(rows) => self.add_sheet(rows),
            Edit::DeleteSheet(s) => drop(self.sheets.remove(s)),
            Edit::View(s, p) => {
                let id = id(self, s, p);
                self.recent.retain(|&x| x != id);
                self.recent.push_front(id);
                return self.recent.truncate(RECENT);
            }
            Edit::Undo => {
                if let Some((sheets, old)) = self.undo.pop_back() {
                    self.sheets = sheets;
                    self.cells.extend(old.into_iter().rev());
                }
                return;
            }
            Edit::Archive => {
                self.sheets.truncate(2);
                return self.undo.clear();
            }
        }
        self.undo.push_back((sheets, old));
        if self.undo.len() > UNDO_DEPTH {
            self.undo.pop_front();
        }
    }
}

impl<R> F<R> {
    fn map<S>(&self, to: &mut impl FnMut(&R) -> S) -> F<S> {
        match self {
            F::Num(n) => F::Num(*n),
            F::Ref(r) => F::Ref(to(r)),
            F::Add(a, b) => F::Add(Box::new(a.map(to)), Box::new(b.map(to))),
            F::Sum(rs) => F::Sum(rs.iter().map(to).collect()),
        }
    }
}

/// xorshift64: the script of edits.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// A formula for a cell of row `row`: it reads rows above it only, so
    /// no formula depends on itself.
    fn formula(&mut self, row: usize, depth: u32) -> F<Pos> {
        let sub = |rng: &mut Rng| Box::new(rng.formula(row, depth - 1));
        let kinds = [1, 3, 5][usize::from(row > 0) + usize::from(row > 0 && depth > 0)];
        match self.below(kinds) {
            0 => F::Num(self.below(21) as i64 - 10),
            1 | 2 => F::Ref((self.below(row), self.below(COLS))),
            3 => F::Add(sub(self), sub(self)),
            _ => {
                let (from, col) = (self.below(row), self.below(COLS));
                F::Sum((from..row).map(|r| (r, col)).collect())
            }
        }
    }

    fn edit(&mut self, model: &Model) -> Edit {
        let (s, sheets) = (self.below(model.sheets.len()), model.sheets.len());
        let rows = model.sheets[s].1.len();
        let (roll, at) = (self.below(100), (self.below(rows), self.below(COLS)));
        let (p, q) = ((at.0, 1), (self.below(rows), 3));
        let typed =
            |(r, c): Pos| matches!(model.cells[&model.sheets[s].1[r][c]].formula, F::Num(_));
        match roll {
            0..3 if sheets < 10 => Edit::AddSheet(20 + self.below(40)),
            3 if sheets > 2 => Edit::DeleteSheet(s),
            4..8 => Edit::InsertRow(s, self.below(rows + 1)),
            8..11 if rows > 1 => Edit::DeleteRow(s, at.0),
            11..22 => Edit::Undo,
            22..30 => Edit::View(s, at),
            30..35 if typed(p) && typed(q) => Edit::Swap(s, p, q),
            30..60 => Edit::Formula(s, at, F::Num(self.below(41) as i64 - 20)),
            _ => Edit::Formula(s, at, self.formula(at.0, 2)),
        }
    }
}

/// Runs the script, checking the engine against the model as it goes.
pub(crate) fn main() {
    let start = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut app, mut model) = (App::new(30), Model::default());
    model.add_sheet(30);
    let (mut collections, mut forgotten) = (0, 0);
    for step in 1..=EDITS {
        let edit = if step % 2000 == 1000 {
            Edit::Archive
        } else {
            rng.edit(&model)
        };
        model.apply(&edit);
        app.apply(&edit);
        if let Edit::Archive = edit {
            let stats = app.heap.compact();
            app.heap.shrink_to_fit();
            let (space, heap) = (app.heap.stats(), app.heap.detailed_stats());
            println!("archived: {} objects dropped; {space}", stats.dropped);
            assert!(stats.dropped > 0 && stats.chunks_released > 0);
            let fewest = heap.used_bytes.div_ceil(heap.chunk_area);
            assert!(
                heap.chunks <= fewest && space.space_ratio() > 0.5,
                "compacted: {heap}"
            );
            forgotten += app.check_recent(&model, true);
        } else if app.heap.collect_if_due().is_some() {
            app.check_recent(&model, false);
            collections += 1;
        }
        if step % 25 == 0 {
            app.check(&model);
        }
    }
    let recent = app.heap.read(|mc, _| {
        let found = app.recent.iter().filter_map(|w| mc.upgrade(w));
        found.map(|c| address(mc, &mc[c])).collect::<Vec<_>>()
    });
    println!(
        "{EDITS} edits, {collections} collections, in {:?}",
        start.elapsed()
    );
    println!(
        "recently viewed: {} ({forgotten} deleted ones forgotten)",
        recent.join(", ")
    );
    assert!(forgotten > 0);
}
