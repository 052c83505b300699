//! A dynamically typed bytecode VM on the garbage-collected heap: a value is
//! one 8-byte [`NanBox`] (a number, `nil`/`true`/`false`, or a handle to a
//! string, table, closure, upvalue box or native function); the stack, frames
//! and globals are the heap's root. The host runs programs in steps (one
//! [`Heap::mutate`] until [`Mutation::collection_due`]), collecting between
//! them. Strings are interned through weak handles, objects named in an
//! identity map that keeps nothing alive; a 100k-node list and a cycle are
//! reclaimed once dropped. Programs also get weak maps, as a JavaScript
//! `WeakMap`: keyed by objects, whose values (here, metadata tables that
//! point back at their keys) live only as long as their keys do.
//!
//! Run with `cargo run --release --example nan_vm`.

use std::collections::HashMap;

use managed::prelude::*;

/// A value: a number, an immediate or a handle, in one word.
type Val<'gc> = NanBox<'gc, Obj<'gc>>;
type NativeFn = for<'gc> fn(&mut Mutation<'gc>, &mut Vm<'gc>, &[Val<'gc>]) -> Result<Val<'gc>>;
type Result<T> = std::result::Result<T, String>;

/// The immediates: tag 0 is `nil`, tag 1 the booleans.
fn nil<'gc>() -> Val<'gc> {
    NanBox::immediate(0, 0)
}

fn boolean<'gc>(b: bool) -> Val<'gc> {
    NanBox::immediate(1, b.into())
}

/// Every heap object of the VM.
#[derive(Managed)]
enum Obj<'gc> {
    Str(Box<str>),
    Table(Table<'gc>),
    /// A prototype and the upvalue boxes it captured.
    Closure(usize, Vec<Gc<'gc, Obj<'gc>>>),
    /// A captured variable, shared by the closures that capture it.
    Upval(Val<'gc>),
    Native(NativeFn),
    /// A table keyed by objects that keeps no key alive: an entry's value
    /// is reachable only while its key is reachable without it, so it may
    /// refer to its key (an ephemeron table).
    WeakMap(HashMap<GcWeak<'gc, Obj<'gc>>, Val<'gc>>),
}

/// A string-keyed part (interned keys: identity is equality), an array part.
#[derive(Managed, Default)]
struct Table<'gc> {
    fields: HashMap<Val<'gc>, Val<'gc>>,
    array: Vec<Val<'gc>>,
}

#[derive(Managed)]
struct Proto<'gc> {
    argc: usize,
    consts: Vec<Val<'gc>>,
    code: Vec<Op>,
}

#[derive(Managed)]
struct Frame<'gc> {
    closure: Gc<'gc, Obj<'gc>>,
    proto: usize,
    pc: usize,
    /// The stack index of local 0 (the callee sits below it).
    base: usize,
}

/// The heap's root: everything a program needs between two steps.
#[derive(Managed, Default)]
struct Vm<'gc> {
    stack: Vec<Val<'gc>>,
    frames: Vec<Frame<'gc>>,
    globals: HashMap<Val<'gc>, Val<'gc>>,
    protos: Vec<Proto<'gc>>,
    /// The interned strings, which this table does not keep alive: a
    /// collection that drops a string drops its entry.
    strings: HashMap<String, GcWeak<'gc, Obj<'gc>>>,
    /// Names given to objects (by the `name` native), keeping none alive.
    names: HashMap<GcWeak<'gc, Obj<'gc>>, String>,
}

/// An instruction (jumps are absolute). `Const(i)` pushes the function's
/// string constant `i`; `MakeBox(i)` moves local `i` into an upvalue box;
/// `MakeClosure(p, locals)` captures the boxes in `locals`.
#[derive(Clone, Copy, Debug)]
#[rustfmt::skip]
enum Op {
    Num(f64), Const(usize), Nil, Pop, Dup,
    GetLocal(usize), SetLocal(usize), GetGlobal(usize), SetGlobal(usize),
    GetUpval(usize), SetUpval(usize), MakeBox(usize), MakeClosure(usize, &'static [usize]),
    Add, Sub, Lt, Concat, NewTable, GetIndex, SetIndex,
    Jump(usize), JumpIfFalse(usize), Call(usize), Return,
}

use Op::*;

const COUNTER: usize = 4;
/// The functions: global name, argument count, string constants, code.
#[rustfmt::skip]
const PROGRAM: [(&str, usize, &[&str], &[Op]); 10] = [
    ("fib", 1, &["fib"], &[
        GetLocal(0), Num(2.0), Lt, JumpIfFalse(6), GetLocal(0), Return,
        GetGlobal(0), GetLocal(0), Num(1.0), Sub, Call(1), // 6: fib(n - 1)
        GetGlobal(0), GetLocal(0), Num(2.0), Sub, Call(1), Add, Return,
    ]),
    // Locals: n, head, i. Each node is {value = i, next = head, label = "n" .. i}.
    ("build", 1, &["value", "next", "label", "n"], &[
        Nil, Num(0.0), GetLocal(2), GetLocal(0), Lt, JumpIfFalse(27), // pc 2: while i < n
        NewTable, Dup, Const(0), GetLocal(2), SetIndex, Dup, Const(1), GetLocal(1), SetIndex,
        Dup, Const(2), Const(3), GetLocal(2), Concat, SetIndex, SetLocal(1),
        GetLocal(2), Num(1.0), Add, SetLocal(2), Jump(2),
        GetLocal(1), Return, // 27
    ]),
    ("sum", 1, &["value", "next"], &[ // locals: list, acc
        Num(0.0), GetLocal(0), JumpIfFalse(14), // pc 1: while list
        GetLocal(1), GetLocal(0), Const(0), GetIndex, Add, SetLocal(1),
        GetLocal(0), Const(1), GetIndex, SetLocal(0), Jump(1),
        GetLocal(1), Return, // 14
    ]),
    ("list_main", 1, &["sum", "build"], &[
        GetGlobal(0), GetGlobal(1), GetLocal(0), Call(1), Call(1), Return,
    ]),
    ("counter", 0, &[], &[GetUpval(0), Num(1.0), Add, SetUpval(0), GetUpval(0), Return]),
    ("make_counter", 1, &[], &[MakeBox(0), MakeClosure(COUNTER, &[0]), Return]),
    ("setup_counters", 0, &["make_counter", "tick", "tock"], &[
        GetGlobal(0), Num(0.0), Call(1), SetGlobal(1),
        GetGlobal(0), Num(100.0), Call(1), SetGlobal(2), Nil, Return,
    ]),
    // Locals: a, b. a.peer = b, b[0] = a, b[1] = b; named "a" and "b".
    ("make_cycle", 0, &["peer", "name", "a", "b", "cycle"], &[
        NewTable, NewTable, GetLocal(0), Const(0), GetLocal(1), SetIndex,
        GetLocal(1), Num(0.0), GetLocal(0), SetIndex, GetLocal(1), Num(1.0), GetLocal(1), SetIndex,
        GetGlobal(1), GetLocal(0), Const(2), Call(2), Pop,
        GetGlobal(1), GetLocal(1), Const(3), Call(2), Pop,
        GetLocal(0), SetGlobal(4), Nil, Return,
    ]),
    ("drop_cycle", 0, &["cycle"], &[Nil, SetGlobal(0), Nil, Return]),
    // Local: meta = weakmap(). meta[a] = {owner = a}, meta[a.peer] =
    // {owner = a.peer}, for the cycle's a; then the global meta = meta.
    ("describe_cycle", 0, &["weakmap", "cycle", "meta", "owner", "peer"], &[
        GetGlobal(0), Call(0),
        GetLocal(0), GetGlobal(1), NewTable, Dup, Const(3), GetGlobal(1), SetIndex, SetIndex,
        GetLocal(0), GetGlobal(1), Const(4), GetIndex,
        NewTable, Dup, Const(3), GetGlobal(1), Const(4), GetIndex, SetIndex, SetIndex,
        GetLocal(0), SetGlobal(2), Nil, Return,
    ]),
];

fn alloc<'gc>(mc: &Mutation<'gc>, object: Obj<'gc>) -> Val<'gc> {
    NanBox::from_gc(Gc::new(mc, object))
}

fn intern<'gc>(mc: &Mutation<'gc>, vm: &mut Vm<'gc>, s: &str) -> Val<'gc> {
    if let Some(gc) = vm.strings.get(s).and_then(|weak| weak.upgrade(mc)) {
        return NanBox::from_gc(gc);
    }
    let gc = Gc::new(mc, Obj::Str(s.into()));
    vm.strings.insert(s.to_owned(), gc.downgrade());
    NanBox::from_gc(gc)
}

/// `name(object, string)`: names an object without keeping it alive.
fn name<'gc>(mc: &mut Mutation<'gc>, vm: &mut Vm<'gc>, a: &[Val<'gc>]) -> Result<Val<'gc>> {
    let object = a[0].as_gc().ok_or("name(object, string)")?;
    vm.names.insert(object.downgrade(), show(mc, a[1]));
    Ok(nil())
}

/// `weakmap()`: a new, empty weak map.
fn weakmap<'gc>(mc: &mut Mutation<'gc>, _: &mut Vm<'gc>, _: &[Val<'gc>]) -> Result<Val<'gc>> {
    Ok(alloc(mc, Obj::WeakMap(HashMap::new())))
}

/// A value as text: how results leave the heap (handles cannot).
fn show<'gc>(mc: &Mutation<'gc>, v: Val<'gc>) -> String {
    match (v.as_f64(), v.as_immediate(), v.as_gc().map(|gc| &mc[gc])) {
        (Some(x), _, _) => x.to_string(),
        (_, Some((1, b)), _) => (b != 0).to_string(),
        (_, _, Some(Obj::Str(s))) => s.to_string(),
        (_, _, Some(_)) => "object".into(),
        _ => "nil".into(),
    }
}

fn weak_map<'a, 'gc>(
    mc: &'a mut Mutation<'gc>,
    v: Val<'gc>,
) -> Option<&'a mut HashMap<GcWeak<'gc, Obj<'gc>>, Val<'gc>>> {
    match v.as_gc().map(|gc| &mut mc[gc]) {
        Some(Obj::WeakMap(map)) => Some(map),
        _ => None,
    }
}

fn table<'a, 'gc>(mc: &'a mut Mutation<'gc>, v: Val<'gc>) -> Result<&'a mut Table<'gc>> {
    match v.as_gc().map(|gc| &mut mc[gc]) {
        Some(Obj::Table(t)) => Ok(t),
        _ => Err(format!("{v:?} is not a table")),
    }
}

impl<'gc> Vm<'gc> {
    fn load(mc: &mut Mutation<'gc>) -> Self {
        let mut vm = Vm::default();
        for (i, &(global, argc, consts, code)) in PROGRAM.iter().enumerate() {
            let consts = consts.iter().map(|s| intern(mc, &mut vm, s)).collect();
            let code = code.to_vec();
            vm.protos.push(Proto { argc, consts, code });
            let closure = alloc(mc, Obj::Closure(i, Vec::new()));
            let key = intern(mc, &mut vm, global);
            vm.globals.insert(key, closure);
        }
        for (global, f) in [("name", name as NativeFn), ("weakmap", weakmap)] {
            let native = alloc(mc, Obj::Native(f));
            let key = intern(mc, &mut vm, global);
            vm.globals.insert(key, native);
        }
        vm
    }

    fn pop(&mut self) -> Val<'gc> {
        self.stack.pop().expect("balanced bytecode")
    }

    /// Calls the global function `name` with `args`: the first step.
    fn start(&mut self, mc: &mut Mutation<'gc>, name: &str, args: &[f64]) -> Result<()> {
        let key = intern(mc, self, name);
        let f = *self.globals.get(&key).ok_or("no such function")?;
        self.frames.clear();
        self.stack = vec![f];
        self.stack.extend(args.iter().map(|&x| NanBox::from_f64(x)));
        self.exec(mc, Call(args.len())).map(drop)
    }

    /// Runs until the program returns (its result) or a collection is due.
    fn run(&mut self, mc: &mut Mutation<'gc>) -> Result<Option<String>> {
        while !mc.collection_due() {
            let frame = self.frames.last_mut().expect("a program is running");
            let op = self.protos[frame.proto].code[frame.pc];
            frame.pc += 1;
            if let Some(done) = self.exec(mc, op)? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    /// Executes one instruction; the result once the outermost returns.
    fn exec(&mut self, mc: &mut Mutation<'gc>, op: Op) -> Result<Option<String>> {
        let frame = self.frames.last();
        let (closure, proto, base) =
            frame.map_or((None, 0, 0), |f| (Some(f.closure), f.proto, f.base));
        let upval = |mc: &Mutation<'gc>, i: usize| match closure.map(|c| &mc[c]) {
            Some(Obj::Closure(_, upvals)) => upvals[i],
            _ => unreachable!("only closures run"),
        };
        let k = match op {
            Const(i) | GetGlobal(i) | SetGlobal(i) => self.protos[proto].consts[i],
            _ => nil(),
        };
        match op {
            Num(x) => self.stack.push(NanBox::from_f64(x)),
            Const(_) => self.stack.push(k),
            Nil => self.stack.push(nil()),
            Pop => drop(self.pop()),
            Dup => self.stack.push(*self.stack.last().expect("a value")),
            GetLocal(i) => self.stack.push(self.stack[base + i]),
            SetLocal(i) => self.stack[base + i] = self.pop(),
            GetGlobal(_) => self.stack.push(*self.globals.get(&k).unwrap_or(&nil())),
            SetGlobal(_) => drop(self.globals.insert(k, self.stack.pop().expect("a value"))),
            GetUpval(i) => match mc[upval(mc, i)] {
                Obj::Upval(v) => self.stack.push(v),
                _ => unreachable!("upvalues are boxes"),
            },
            SetUpval(i) => *upval(mc, i).get_mut(mc) = Obj::Upval(self.pop()),
            MakeBox(i) => self.stack[base + i] = alloc(mc, Obj::Upval(self.stack[base + i])),
            MakeClosure(proto, captured) => {
                let upvals = captured.iter().map(|&i| self.stack[base + i].as_gc());
                let upvals = upvals.collect::<Option<_>>().ok_or("captured a non-box")?;
                self.stack.push(alloc(mc, Obj::Closure(proto, upvals)));
            }
            Add | Sub | Lt => {
                let (Some(b), Some(a)) = (self.pop().as_f64(), self.pop().as_f64()) else {
                    return Err(format!("{op:?} of a non-number"));
                };
                self.stack.push(match op {
                    Add => NanBox::from_f64(a + b),
                    Sub => NanBox::from_f64(a - b),
                    _ => boolean(a < b),
                });
            }
            Concat => {
                let (b, a) = (self.pop(), self.pop());
                let s = intern(mc, self, &format!("{}{}", show(mc, a), show(mc, b)));
                self.stack.push(s);
            }
            NewTable => self.stack.push(alloc(mc, Obj::Table(Table::default()))),
            GetIndex => {
                let (key, t) = (self.pop(), self.pop());
                if let Some(map) = weak_map(mc, t) {
                    let key = key.as_gc().ok_or("a weak map's keys are objects")?;
                    let v = map.get(&key.downgrade()).copied();
                    self.stack.push(v.unwrap_or(nil()));
                    return Ok(None);
                }
                let t = table(mc, t)?;
                let v = match key.as_f64() {
                    Some(i) => t.array.get(i as usize),
                    None => t.fields.get(&key),
                };
                self.stack.push(v.copied().unwrap_or(nil()));
            }
            SetIndex => {
                let (v, key, t) = (self.pop(), self.pop(), self.pop());
                if let Some(map) = weak_map(mc, t) {
                    let key = key.as_gc().ok_or("a weak map's keys are objects")?;
                    map.insert(key.downgrade(), v);
                    return Ok(None);
                }
                let t = table(mc, t)?;
                match key.as_f64().map(|i| i as usize) {
                    Some(i) if i == t.array.len() => t.array.push(v),
                    Some(i) if i < t.array.len() => t.array[i] = v,
                    Some(_) => return Err("array index out of range".into()),
                    None => drop(t.fields.insert(key, v)),
                }
            }
            Jump(to) | JumpIfFalse(to) => {
                if matches!(op, Jump(_)) || [nil(), boolean(false)].contains(&self.pop()) {
                    self.frames.last_mut().expect("a frame").pc = to;
                }
            }
            Call(argc) => {
                let at = self.stack.len() - argc;
                match self.stack[at - 1].as_gc().map(|gc| (gc, &mc[gc])) {
                    Some((closure, &Obj::Closure(proto, _))) if self.protos[proto].argc == argc => {
                        self.frames.push(Frame {
                            closure,
                            proto,
                            pc: 0,
                            base: at,
                        });
                    }
                    Some((_, &Obj::Native(native))) => {
                        let args = self.stack.split_off(at);
                        self.stack.pop();
                        let result = native(mc, self, &args)?;
                        self.stack.push(result);
                    }
                    _ => return Err(format!("cannot call with {argc} arguments")),
                }
            }
            Return => {
                let result = self.pop();
                let frame = self.frames.pop().expect("a frame");
                self.stack.truncate(frame.base - 1);
                if self.frames.is_empty() {
                    return Ok(Some(show(mc, result)));
                }
                self.stack.push(result);
            }
        }
        Ok(None)
    }
}

/// Calls a global function in steps, collecting between them.
fn call(heap: &mut Heap<Vm<'static>>, name: &str, args: &[f64]) -> Result<String> {
    heap.mutate(|mc, vm| vm.start(mc, name, args))?;
    loop {
        if let Some(result) = heap.mutate(|mc, vm| vm.run(mc))? {
            return Ok(result);
        }
        heap.collect_if_due();
    }
}

pub(crate) fn main() -> Result<()> {
    let mut heap: Heap<Vm<'static>> = Heap::new(|mc| Vm::load(mc));
    let mut pacing = heap.pacing();
    pacing.min_bytes = 64 << 10; // collect often
    heap.set_pacing(pacing);
    let (value, object) = (size_of::<Val<'static>>(), size_of::<Obj<'static>>());
    assert_eq!(value, 8);

    let fib = (0..20).fold((0, 1), |(a, b), _| (b, a + b)).0;
    assert_eq!(call(&mut heap, "fib", &[20.0])?, fib.to_string());

    call(&mut heap, "setup_counters", &[])?;
    for i in 1..=3 {
        assert_eq!(call(&mut heap, "tick", &[])?, i.to_string());
    }
    assert_eq!(call(&mut heap, "tock", &[])?, "101");

    // A 100k-node list, built across collections, summed, then dropped.
    let (before, start) = (heap.collect(), heap.detailed_stats().collections);
    let (n, sum) = (100_000, "4999950000");
    assert_eq!(call(&mut heap, "list_main", &[n as f64])?, sum);
    let during = heap.detailed_stats().collections - start;
    let after = heap.collect();
    let (dropped, kib) = (after.dropped, after.freed_bytes >> 10);
    println!(
        "{n} tables summed to {sum} over {during} collections; {dropped} objects ({kib} KiB) freed"
    );
    assert!(during > 3 && dropped >= 2 * n && after.freed_bytes >= 2 * n * object);
    assert_eq!(after.live_objects, before.live_objects);
    // The labels' interned strings are forgotten.
    assert!(heap.read(|_, vm| vm.strings.len()) < 100);
    // The counter's box moved with every collection and kept its count.
    assert_eq!(call(&mut heap, "tick", &[])?, "4");

    // A cycle, kept by a global, described in a weak map whose values
    // point back at their keys, then dropped by the global.
    call(&mut heap, "make_cycle", &[])?;
    call(&mut heap, "describe_cycle", &[])?;
    assert_eq!(heap.collect().dropped, 0);
    let described = |heap: &Heap<Vm<'static>>| {
        heap.read(|mc, vm| {
            let meta = NanBox::from_gc(vm.strings["meta"].upgrade(mc).expect("interned"));
            let Some(Obj::WeakMap(map)) = vm.globals[&meta].as_gc().map(|gc| &mc[gc]) else {
                unreachable!("the global meta is a weak map");
            };
            let owner = vm.strings["owner"].upgrade(mc).expect("interned");
            for (key, value) in map {
                let Some(Obj::Table(t)) = value.as_gc().map(|gc| &mc[gc]) else {
                    unreachable!("metadata tables");
                };
                let back = t.fields[&NanBox::from_gc(owner)].as_gc();
                assert!(back.is_some_and(|gc| Some(gc) == key.upgrade(mc)));
            }
            map.len()
        })
    };
    assert_eq!(described(&heap), 2, "found through the moved keys");
    call(&mut heap, "drop_cycle", &[])?;
    // The cycle's two tables and their metadata, which referred to them:
    // the weak map's values keep their keys alive only through the keys.
    assert_eq!(heap.collect().dropped, 4);
    assert_eq!(described(&heap), 0);
    // Both names left with their objects.
    assert!(heap.read(|_, vm| vm.names.is_empty()));

    let live = heap.collect().live_objects;
    let collections = heap.detailed_stats().collections;
    println!(
        "{value}-byte values, {object}-byte objects; fib(20) = {fib}; {collections} collections, \
         {live} live objects at the end"
    );
    assert!(live < 100, "code, globals and counters");
    Ok(())
}
