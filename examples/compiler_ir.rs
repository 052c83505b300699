//! A small optimizing compiler: the source is parsed into a scope of a
//! `MemoryArena`, and lowered into an SSA-like IR (block parameters instead
//! of phis) that a `Module` keeps in a compacting region it owns. Blocks and
//! instructions are shared objects naming each other through `Forward`s; a
//! block's instructions are a shared slice grown by `push_shared`; every
//! allocation goes through `Arena::or_compact`. Passes fold constants, merge
//! instructions that compute the same value (CSE, keyed by instructions that
//! hold `Forward`s) and remove dead ones, walking a block's instruction list
//! with `Arena::split_mut` while rewriting what it names. Then the module
//! compacts in place: a table keyed by instruction `Forward`s still finds
//! every entry. The IR runs as lowered, optimized and compacted, and agrees
//! each time with a tree-walking evaluator of the AST.
//!
//! Run with `cargo run --example compiler_ir`.

use std::collections::{HashMap, HashSet};
use std::iter::{self, Peekable};
use std::str::SplitWhitespace;

use allocator_api2::vec::Vec as ScopeVec;
use managed::prelude::*;
use managed::region::Others;

/// Functions of an argument or two; `(let x e body)` binds `x` in `body`.
const SRC: &str = "
(fn fact (n) (if (< n 1) 1 (* n (fact (- n 1)))))
(fn fib (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(fn gcd (a b) (if (== b 0) a (gcd b (% a b))))
(fn sumsq (n) (let dead (* (* n n) 99)
  (if (< n 1) 0 (let sq (* n n) (+ (+ (sumsq (- n 1)) (* n n)) (* 0 sq))))))
(fn poly (x) (let k (- (* 3 4) 2) (let a (+ (* x k) (* k x)) (let unused (* a 7)
  (if (< 5 k) (+ a (* 2 5)) (- a (+ 1 1)))))))
(fn main (x) (+ (+ (fact (% x 10)) (gcd x 36)) (poly (+ x (* 2 3)))))
";

const OPS: [&str; 6] = ["+", "-", "*", "%", "<", "=="];

fn apply(op: &str, a: i64, b: i64) -> i64 {
    match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "%" => a.checked_rem(b).unwrap_or(0),
        "<" => i64::from(a < b),
        _ => i64::from(a == b),
    }
}

#[derive(Clone, Copy)]
enum Expr<'s> {
    Num(i64),
    Var(&'s str),
    Let(&'s str, &'s Expr<'s>, &'s Expr<'s>),
    Bin(&'static str, &'s Expr<'s>, &'s Expr<'s>),
    If(&'s Expr<'s>, &'s Expr<'s>, &'s Expr<'s>),
    Call(&'s str, &'s [Expr<'s>]),
}

/// A function: its name, parameters and body.
type FnDef<'s> = (&'s str, &'s [&'s str], &'s Expr<'s>);

type Tokens<'s> = Peekable<SplitWhitespace<'s>>;

/// `(fn name (params...) body)`s, parsed into the scope.
fn program<'s>(scope: &'s ArenaScope<'_>, tokens: &mut Tokens<'s>) -> &'s [FnDef<'s>] {
    let mut fns = ScopeVec::new_in(scope);
    while tokens.peek().is_some() {
        let ["(", "fn", name, "("] = [(); 4].map(|()| tokens.next().unwrap_or("")) else {
            panic!("expected `(fn name (`");
        };
        let mut params = ScopeVec::new_in(scope);
        params.extend(iter::from_fn(|| tokens.next_if(|&t| t != ")")));
        let (_, body, _) = (tokens.next(), expr(scope, tokens), tokens.next());
        fns.push((name, &*params.leak(), &*scope.alloc_copy(body)));
    }
    fns.leak()
}

fn expr<'s>(scope: &'s ArenaScope<'_>, tokens: &mut Tokens<'s>) -> Expr<'s> {
    let token = tokens.next().expect("a closing parenthesis");
    if token != "(" {
        return token.parse().map_or(Expr::Var(token), Expr::Num);
    }
    let (head, mut list) = (tokens.next().expect("an operator"), ScopeVec::new_in(scope));
    while tokens.next_if_eq(&")").is_none() {
        list.push(expr(scope, tokens));
    }
    let list: &'s [Expr<'s>] = list.leak();
    match (head, OPS.iter().find(|&&op| op == head), list) {
        ("let", _, [Expr::Var(x), value, body]) => Expr::Let(x, value, body),
        ("if", _, [cond, then, other]) => Expr::If(cond, then, other),
        (_, Some(op), [a, b]) => Expr::Bin(op, a, b),
        _ => Expr::Call(head, list),
    }
}

fn get<T: Copy>(env: &[(&str, T)], name: &str) -> T {
    let bound = env.iter().rev().find(|b| b.0 == name);
    bound.unwrap_or_else(|| panic!("unbound `{name}`")).1
}

/// The model: evaluates an expression over named values.
fn eval<'s>(e: &Expr<'s>, env: &mut Vec<(&'s str, i64)>, fns: &[FnDef<'s>]) -> i64 {
    match *e {
        Expr::Num(n) => n,
        Expr::Var(name) => get(env, name),
        Expr::Let(name, value, body) => {
            let value = eval(value, env, fns);
            env.push((name, value));
            let value = eval(body, env, fns);
            env.pop();
            value
        }
        Expr::Bin(op, a, b) => {
            let a = eval(a, env, fns);
            apply(op, a, eval(b, env, fns))
        }
        Expr::If(cond, then, other) => match eval(cond, env, fns) {
            0 => eval(other, env, fns),
            _ => eval(then, env, fns),
        },
        Expr::Call(name, args) => {
            let &(_, params, body) = fns.iter().find(|f| f.0 == name).expect("a function");
            let args = args.iter().map(|a| eval(a, env, fns));
            eval(body, &mut params.iter().copied().zip(args).collect(), fns)
        }
    }
}

/// An instruction, a block, and a list of either: shared objects.
type V<'id> = Forward<'id, Op<'id>>;
type B<'id> = Forward<'id, Block<'id>>;
type List<'id, T> = Forward<'id, [T]>;

/// An instruction: `Copy`, and hashable and comparable as its operands
/// (`Forward`s) are, so it keys the CSE table.
#[derive(Managed, Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op<'id> {
    Const(i64),
    Param,
    Bin(&'static str, V<'id>, V<'id>),
    /// A call of the module's function of this index.
    Call(u32, List<'id, V<'id>>),
    /// A jump to a block, with the values of its parameters.
    Jump(B<'id>, List<'id, V<'id>>),
    Branch(V<'id>, B<'id>, B<'id>),
    Ret(V<'id>),
}

/// Parameters, then instructions: the last a jump, a branch or a return.
#[derive(Managed)]
struct Block<'id> {
    params: List<'id, V<'id>>,
    insts: List<'id, V<'id>>,
}

struct Module<'id> {
    arena: Arena<'id, 0>,
    state: State<'id>,
    /// Each function's name and blocks (the entry first).
    fns: Vec<(String, List<'id, B<'id>>)>,
}

impl<'id> Module<'id> {
    /// The region's shared allocations that compact it when it is full.
    fn room(&mut self) -> OrCompact<'_, 'id, 0> {
        self.arena.or_compact(&mut self.state)
    }
    fn list<T: Copy + 'id>(&mut self, items: &[T]) -> List<'id, T> {
        self.room().alloc_shared_slice(items).expect("the IR fits")
    }
    /// A new block of the last function.
    fn block(&mut self) -> B<'id> {
        let (params, insts) = (self.list(&[]), self.list(&[]));
        let block = self.room().alloc_shared(Block { params, insts });
        let (block, blocks) = (block.expect("the IR fits"), self.fns[self.fns.len() - 1].1);
        self.room().push_shared(blocks, block).expect("the IR fits");
        block
    }
    /// Appends an instruction (a `Param` to the parameters) to a block.
    fn add(&mut self, block: B<'id>, op: Op<'id>) -> V<'id> {
        let inst = self.room().alloc_shared(op).expect("the IR fits");
        let Block { params, insts } = self.arena[block];
        let list = if op == Op::Param { params } else { insts };
        self.room().push_shared(list, inst).expect("the IR fits");
        inst
    }
    fn find(&self, name: &str) -> usize {
        let f = self.fns.iter().position(|f| f.0 == name);
        f.expect("a function defined before its callers")
    }
    fn lower(&mut self, fns: &[FnDef<'_>]) {
        for &(name, params, body) in fns {
            let blocks = self.list(&[]);
            self.fns.push((name.to_owned(), blocks));
            let at = self.block();
            let env = params.iter().map(|&p| (p, self.add(at, Op::Param)));
            let env = env.collect();
            let mut lower = Lower { m: self, at, env };
            let value = lower.expr(body);
            lower.emit(Op::Ret(value));
        }
    }
}

/// Lowers a function: the block it is in, and the values of the names.
struct Lower<'m, 'id, 's> {
    m: &'m mut Module<'id>,
    at: B<'id>,
    env: Vec<(&'s str, V<'id>)>,
}

impl<'id, 's> Lower<'_, 'id, 's> {
    fn emit(&mut self, op: Op<'id>) -> V<'id> {
        self.m.add(self.at, op)
    }
    fn expr(&mut self, e: &Expr<'s>) -> V<'id> {
        match *e {
            Expr::Num(n) => self.emit(Op::Const(n)),
            Expr::Var(name) => get(&self.env, name),
            Expr::Let(name, value, body) => {
                let value = self.expr(value);
                self.env.push((name, value));
                let value = self.expr(body);
                self.env.pop();
                value
            }
            Expr::Bin(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                self.emit(Op::Bin(op, a, b))
            }
            Expr::Call(name, args) => {
                let args: Vec<V<'id>> = args.iter().map(|a| self.expr(a)).collect();
                let (f, args) = (self.m.find(name) as u32, self.m.list(&args));
                self.emit(Op::Call(f, args))
            }
            Expr::If(cond, then, other) => {
                let cond = self.expr(cond);
                let [yes, no, join] = [(); 3].map(|()| self.m.block());
                self.emit(Op::Branch(cond, yes, no));
                for (block, arm) in [(yes, then), (no, other)] {
                    self.at = block;
                    let value = self.expr(arm);
                    let args = self.m.list(&[value]);
                    self.emit(Op::Jump(join, args));
                }
                self.at = join;
                self.emit(Op::Param)
            }
        }
    }
}

/// What instructions found to compute the same value as others stand for.
type Alias<'id> = HashMap<V<'id>, V<'id>>;

/// Rewrites the operands of `v` to what they stand for (commutative ones
/// in order), and returns it. No alias leads to another: see `simplify`.
fn resolve<'id>(others: &mut Others<'_, 'id, 0>, v: V<'id>, alias: &Alias<'id>) -> Op<'id> {
    let to = |x| alias.get(&x).copied().unwrap_or(x);
    let op = match others[v] {
        Op::Bin(o, x, y) => match (to(x), to(y)) {
            (x, y) if y < x && matches!(o, "+" | "*" | "==") => Op::Bin(o, y, x),
            (x, y) => Op::Bin(o, x, y),
        },
        Op::Branch(c, then, other) => Op::Branch(to(c), then, other),
        Op::Ret(x) => Op::Ret(to(x)),
        op @ (Op::Call(_, args) | Op::Jump(_, args)) => {
            others[args].iter_mut().for_each(|x| *x = to(*x));
            op
        }
        op => op,
    };
    others[v] = op;
    op
}

impl<'id> Module<'id> {
    /// Folds constants and identities, and merges the instructions of a
    /// block that compute the same value (CSE); counts both. Blocks are
    /// listed after the blocks that define the values they use, so the
    /// walk meets each instruction after those it uses, and all it stands for.
    fn simplify(&mut self, blocks: List<'id, B<'id>>, counts: &mut [usize; 3]) {
        let mut alias = HashMap::new();
        for i in 0..self.arena[blocks].len() {
            let (block, mut seen) = (self.arena[blocks][i], HashMap::new());
            // The instruction list, lent, beside the instructions it names.
            let (insts, mut others) = self.arena.split_mut(self.arena[block].insts);
            for &v in insts.iter() {
                let op = resolve(&mut others, v, &alias);
                let (new, same) = match op {
                    Op::Bin(o, x, y) => match (o, others[x], others[y]) {
                        (_, Op::Const(a), Op::Const(b)) => (Op::Const(apply(o, a, b)), None),
                        ("*", Op::Const(0), _) | ("*", _, Op::Const(0)) => (Op::Const(0), None),
                        ("+" | "-", _, Op::Const(0)) | ("*", _, Op::Const(1)) => (op, Some(x)),
                        ("+", Op::Const(0), _) | ("*", Op::Const(1), _) => (op, Some(y)),
                        _ => (op, None),
                    },
                    Op::Const(_) => (op, None),
                    _ => continue,
                };
                counts[0] += usize::from(new != op || same.is_some());
                others[v] = new;
                let first = same.unwrap_or_else(|| *seen.entry(new).or_insert(v));
                counts[1] += usize::from(same.is_none() && first != v);
                alias.insert(v, first); // itself, if it is the first
            }
        }
    }

    /// Removes the instructions whose values nothing needs (parameters stay,
    /// as the jumps pass them); counts them.
    fn dce(&mut self, blocks: List<'id, B<'id>>, counts: &mut [usize; 3]) {
        let (mut live, mut work) = (HashSet::new(), Vec::new());
        for &b in &self.arena[blocks] {
            let Block { params, insts } = self.arena[b];
            let root = |&&v: &&V<'id>| !matches!(self.arena[v], Op::Const(_) | Op::Bin(..));
            work.extend(&self.arena[params]);
            work.extend(self.arena[insts].iter().filter(root));
        }
        while let Some(v) = work.pop() {
            if live.insert(v) {
                match self.arena[v] {
                    Op::Bin(_, x, y) => work.extend([x, y]),
                    Op::Call(_, args) | Op::Jump(_, args) => work.extend(&self.arena[args]),
                    Op::Branch(x, ..) | Op::Ret(x) => work.push(x),
                    Op::Const(_) | Op::Param => {}
                }
            }
        }
        let mut dead = Vec::new();
        for i in 0..self.arena[blocks].len() {
            let insts = self.arena[self.arena[blocks][i]].insts;
            dead.extend(self.arena[insts].iter().filter(|v| !live.contains(v)));
            self.arena.retain_shared(insts, |v| live.contains(v));
        }
        dead.iter().for_each(|&v| _ = self.arena.remove(v));
        counts[2] += dead.len();
    }

    /// Runs function `f`, counting the instructions it runs.
    fn run(&self, f: usize, args: &[i64], steps: &mut u64) -> i64 {
        let (mut values, mut incoming) = (HashMap::new(), args.to_vec());
        let mut block = self.arena[self.fns[f].1][0];
        loop {
            let Block { params, insts } = self.arena[block];
            let params = self.arena[params].iter().copied();
            values.extend(params.zip(incoming.drain(..)));
            for &v in &self.arena[insts] {
                *steps += 1;
                let value = match self.arena[v] {
                    Op::Const(c) => c,
                    Op::Bin(o, x, y) => apply(o, values[&x], values[&y]),
                    Op::Call(g, args) => {
                        let args = self.arena[args].iter().map(|x| values[x]);
                        self.run(g as usize, &args.collect::<Vec<_>>(), steps)
                    }
                    Op::Jump(to, args) => {
                        incoming.extend(self.arena[args].iter().map(|x| values[x]));
                        block = to;
                        break;
                    }
                    Op::Branch(c, then, other) => {
                        block = if values[&c] != 0 { then } else { other };
                        break;
                    }
                    Op::Ret(x) => return values[&x],
                    Op::Param => unreachable!("a parameter among the instructions"),
                };
                values.insert(v, value);
            }
        }
    }

    /// Every instruction of the module, parameters too.
    fn insts(&self) -> Vec<V<'id>> {
        let blocks = self.fns.iter().flat_map(|f| &self.arena[f.1]);
        let lists = blocks.flat_map(|&b| [self.arena[b].params, self.arena[b].insts]);
        lists.flat_map(|list| &self.arena[list]).copied().collect()
    }
}

pub(crate) fn main() {
    let mut cases = vec![("gcd", [1071, 462]), ("sumsq", [100, 0])];
    for f in ["fact", "fib", "gcd", "poly", "main"] {
        cases.extend((-2..=12).map(|n| (f, [n, 36])));
    }
    make_guard!(guard);
    // Between the lowered IR (7 KB) and it with the holes lowering leaves
    // (8.4 KB, from slices moved as they grew): `or_compact` compacts once.
    let (arena, state) = Arena::with_capacity(guard, 8 << 10);
    let fns = Vec::new();
    let mut m = Module { arena, state, fns };
    let mut scratch = MemoryArena::new(1);
    let (expected, ast_bytes) = {
        let scope = &scratch.allocator();
        let text = scope.alloc_str(&SRC.replace('(', " ( ").replace(')', " ) "));
        let fns = program(scope, &mut text.split_whitespace().peekable());
        m.lower(fns);
        let model = |(f, args): &(&str, [i64; 2])| {
            let args = args.map(Expr::Num);
            eval(&Expr::Call(f, &args), &mut Vec::new(), fns)
        };
        let expected: Vec<i64> = cases.iter().map(model).collect();
        (expected, scope.stats().live_bytes)
    }; // the scope ends: the text and the AST are freed
    let run_all = |m: &Module<'_>| {
        let mut steps = 0;
        let mut run = |(f, args): &(&str, [i64; 2])| m.run(m.find(f), args, &mut steps);
        let results: Vec<i64> = cases.iter().map(&mut run).collect();
        (results, steps)
    };
    let (lowered, steps_lowered) = run_all(&m);
    assert_eq!(lowered, expected, "the lowered IR against the AST");
    let (insts, compactions) = (m.insts().len(), m.arena.detailed_stats().compactions);
    assert!(compactions > 0, "lowering filled the region");

    // Folded, merged, removed: the passes run until they change nothing.
    let (mut counts, mut before, mut rounds) = ([0; 3], [usize::MAX; 3], 0);
    while counts != before {
        before = counts;
        for f in 0..m.fns.len() {
            m.simplify(m.fns[f].1, &mut counts);
            m.dce(m.fns[f].1, &mut counts);
        }
        rounds += 1;
    }
    let (optimized, steps_optimized) = run_all(&m);
    assert_eq!(optimized, expected, "the optimized IR against the AST");
    assert!(m.insts().len() < insts && steps_optimized < steps_lowered);

    // Another part of the program keys a table by instruction `Forward`s.
    let ops: HashMap<V<'_>, Op<'_>> = m.insts().iter().map(|&v| (v, m.arena[v])).collect();
    let holes = m.arena.detailed_stats().hole_bytes;
    m.arena.compact_in_place(&mut m.state);
    let stats = m.arena.detailed_stats();
    // The passes allocated nothing, so this is the first compaction since.
    assert!(holes > 0 && stats.hole_bytes == 0 && stats.compactions == compactions + 1);
    assert!(ops.len() == m.insts().len() && m.insts().iter().all(|v| ops[v] == m.arena[*v]));
    assert_eq!(run_all(&m).0, expected, "the compacted IR against the AST");

    let ([folded, merged, removed], n) = (counts, stats.compactions);
    println!("the text and its AST took {ast_bytes} bytes of a scope, freed once lowered");
    println!("lowered into {insts} instructions; compactions while lowering: {compactions}");
    println!("{rounds} rounds of passes: {folded} folded, {merged} merged, {removed} removed");
    println!("compaction {n} took {holes} bytes of holes: {stats}");
    println!("{} runs agree with the AST evaluator", cases.len());
    println!("{steps_lowered} instructions run as lowered, {steps_optimized} optimized");
}
