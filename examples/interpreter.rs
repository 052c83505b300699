//! A small Lisp on the garbage-collected heap: the interpreter's values are
//! an ordinary `#[derive(Managed)]` enum whose pairs, closures and
//! environments point at each other through `Gc` handles (closures capture
//! their environment, and a recursive function's environment holds the
//! closure: cycles), and the global environment is the heap's root.
//!
//! A host runs one top-level form per [`Heap::mutate`] call, as a REPL
//! does, and lets the heap collect between forms when it is due: the
//! lists every form builds become garbage, and what the program defines
//! (functions, a counter's captured state) survives every collection, at
//! whatever address the collector slides it to.
//!
//! Run with `cargo run --example interpreter`.

use std::collections::HashMap;

use managed::prelude::*;

/// A value of the language. `Copy`: a handle is a pointer.
#[derive(Managed, Clone, Copy)]
enum Value<'gc> {
    Nil,
    Int(i64),
    Bool(bool),
    Sym(u32),
    Pair(Gc<'gc, Pair<'gc>>),
    Closure(Gc<'gc, Closure<'gc>>),
    Builtin(Builtin),
}

#[derive(Managed, Clone, Copy, PartialEq, Eq, Debug)]
enum Builtin {
    Add,
    Sub,
    Mul,
    Less,
    Cons,
    Car,
    Cdr,
    IsNull,
}

#[derive(Managed)]
struct Pair<'gc> {
    car: Value<'gc>,
    cdr: Value<'gc>,
}

/// A scope: its variables and the scope it was made in.
#[derive(Managed)]
struct Env<'gc> {
    vars: HashMap<u32, Value<'gc>>,
    parent: Option<Gc<'gc, Env<'gc>>>,
}

#[derive(Managed)]
struct Closure<'gc> {
    params: Vec<u32>,
    body: Value<'gc>,
    env: Gc<'gc, Env<'gc>>,
}

/// The heap's root: the global scope and the symbol table.
#[derive(Managed)]
struct Interp<'gc> {
    global: Gc<'gc, Env<'gc>>,
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

/// The special forms, interned first so that their ids are these.
const SPECIAL: [&str; 6] = ["quote", "if", "define", "lambda", "begin", "set!"];
const QUOTE: u32 = 0;
const IF: u32 = 1;
const DEFINE: u32 = 2;
const LAMBDA: u32 = 3;
const BEGIN: u32 = 4;
const SET: u32 = 5;

type Result<T> = std::result::Result<T, String>;

impl<'gc> Interp<'gc> {
    fn new(mc: &Mutation<'gc>) -> Self {
        let mut interp = Interp {
            global: Gc::new(
                mc,
                Env {
                    vars: HashMap::new(),
                    parent: None,
                },
            ),
            names: Vec::new(),
            ids: HashMap::new(),
        };
        for name in SPECIAL {
            interp.intern(name);
        }
        interp
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    /// Reads one form from `src`.
    fn read(&mut self, mc: &Mutation<'gc>, src: &str) -> Result<Value<'gc>> {
        let spaced = src
            .replace('(', " ( ")
            .replace(')', " ) ")
            .replace('\'', " ' ");
        let mut tokens = spaced.split_whitespace().peekable();
        let form = self.read_form(mc, &mut tokens)?;
        match tokens.next() {
            None => Ok(form),
            Some(extra) => Err(format!("unexpected `{extra}` after the form")),
        }
    }

    fn read_form<'s>(
        &mut self,
        mc: &Mutation<'gc>,
        tokens: &mut std::iter::Peekable<impl Iterator<Item = &'s str>>,
    ) -> Result<Value<'gc>> {
        match tokens.next().ok_or("unexpected end of input")? {
            "(" => {
                let mut items = Vec::new();
                while tokens.peek() != Some(&")") {
                    items.push(self.read_form(mc, tokens)?);
                }
                tokens.next();
                Ok(list(mc, &items))
            }
            ")" => Err("unexpected `)`".into()),
            "'" => {
                let quoted = self.read_form(mc, tokens)?;
                Ok(list(mc, &[Value::Sym(QUOTE), quoted]))
            }
            "#t" => Ok(Value::Bool(true)),
            "#f" => Ok(Value::Bool(false)),
            atom => Ok(match atom.parse() {
                Ok(n) => Value::Int(n),
                Err(_) => Value::Sym(self.intern(atom)),
            }),
        }
    }

    fn define_builtins(&mut self, mc: &mut Mutation<'gc>) {
        use Builtin::*;
        let builtins = [
            ("+", Add),
            ("-", Sub),
            ("*", Mul),
            ("<", Less),
            ("cons", Cons),
            ("car", Car),
            ("cdr", Cdr),
            ("null?", IsNull),
        ];
        for (name, b) in builtins {
            let id = self.intern(name);
            mc[self.global].vars.insert(id, Value::Builtin(b));
        }
    }
}

/// A proper list of `items`.
fn list<'gc>(mc: &Mutation<'gc>, items: &[Value<'gc>]) -> Value<'gc> {
    items.iter().rev().fold(Value::Nil, |cdr, &car| {
        Value::Pair(Gc::new(mc, Pair { car, cdr }))
    })
}

/// The elements of a proper list.
fn items<'gc>(mc: &Mutation<'gc>, mut v: Value<'gc>) -> Result<Vec<Value<'gc>>> {
    let mut out = Vec::new();
    while let Value::Pair(p) = v {
        out.push(mc[p].car);
        v = mc[p].cdr;
    }
    match v {
        Value::Nil => Ok(out),
        _ => Err("not a proper list".into()),
    }
}

/// The scope that binds `name`, searching outwards from `env`.
fn scope_of<'gc>(
    mc: &Mutation<'gc>,
    mut env: Gc<'gc, Env<'gc>>,
    name: u32,
) -> Option<Gc<'gc, Env<'gc>>> {
    loop {
        if mc[env].vars.contains_key(&name) {
            return Some(env);
        }
        env = mc[env].parent?;
    }
}

fn eval<'gc>(
    mc: &mut Mutation<'gc>,
    it: &Interp<'gc>,
    x: Value<'gc>,
    env: Gc<'gc, Env<'gc>>,
) -> Result<Value<'gc>> {
    match x {
        Value::Sym(name) => {
            let scope = scope_of(mc, env, name)
                .ok_or_else(|| format!("unbound variable `{}`", it.names[name as usize]))?;
            Ok(mc[scope].vars[&name])
        }
        Value::Pair(p) => {
            let (head, rest) = (mc[p].car, items(mc, mc[p].cdr)?);
            match (head, rest.as_slice()) {
                (Value::Sym(QUOTE), [datum]) => Ok(*datum),
                (Value::Sym(IF), [test, then, otherwise]) => {
                    let branch = match eval(mc, it, *test, env)? {
                        Value::Bool(false) => otherwise,
                        _ => then,
                    };
                    eval(mc, it, *branch, env)
                }
                (Value::Sym(DEFINE), [Value::Sym(name), value]) => {
                    let value = eval(mc, it, *value, env)?;
                    mc[env].vars.insert(*name, value);
                    Ok(Value::Nil)
                }
                (Value::Sym(SET), [Value::Sym(name), value]) => {
                    let value = eval(mc, it, *value, env)?;
                    let scope = scope_of(mc, env, *name).ok_or("set! of an unbound variable")?;
                    mc[scope].vars.insert(*name, value);
                    Ok(Value::Nil)
                }
                (Value::Sym(LAMBDA), [params, body]) => {
                    let params = items(mc, *params)?
                        .into_iter()
                        .map(|p| match p {
                            Value::Sym(id) => Ok(id),
                            _ => Err("a parameter is not a symbol".to_owned()),
                        })
                        .collect::<Result<_>>()?;
                    let closure = Closure {
                        params,
                        body: *body,
                        env,
                    };
                    Ok(Value::Closure(Gc::new(mc, closure)))
                }
                (Value::Sym(BEGIN), forms) => {
                    let mut last = Value::Nil;
                    for &form in forms {
                        last = eval(mc, it, form, env)?;
                    }
                    Ok(last)
                }
                _ => {
                    let f = eval(mc, it, head, env)?;
                    let args = rest
                        .iter()
                        .map(|&arg| eval(mc, it, arg, env))
                        .collect::<Result<Vec<_>>>()?;
                    apply(mc, it, f, &args)
                }
            }
        }
        atom => Ok(atom),
    }
}

fn apply<'gc>(
    mc: &mut Mutation<'gc>,
    it: &Interp<'gc>,
    f: Value<'gc>,
    args: &[Value<'gc>],
) -> Result<Value<'gc>> {
    match f {
        Value::Builtin(b) => builtin(mc, b, args),
        Value::Closure(c) => {
            let closure = &mc[c];
            if closure.params.len() != args.len() {
                return Err(format!(
                    "{} arguments for {}",
                    args.len(),
                    closure.params.len()
                ));
            }
            let vars = closure
                .params
                .iter()
                .copied()
                .zip(args.iter().copied())
                .collect();
            let (body, parent) = (closure.body, closure.env);
            let scope = Gc::new(
                mc,
                Env {
                    vars,
                    parent: Some(parent),
                },
            );
            eval(mc, it, body, scope)
        }
        _ => Err("not a function".into()),
    }
}

fn builtin<'gc>(mc: &mut Mutation<'gc>, b: Builtin, args: &[Value<'gc>]) -> Result<Value<'gc>> {
    use Builtin::*;
    Ok(match (b, args) {
        (Add, [Value::Int(a), Value::Int(b)]) => Value::Int(a + b),
        (Sub, [Value::Int(a), Value::Int(b)]) => Value::Int(a - b),
        (Mul, [Value::Int(a), Value::Int(b)]) => Value::Int(a * b),
        (Less, [Value::Int(a), Value::Int(b)]) => Value::Bool(a < b),
        (Cons, [car, cdr]) => Value::Pair(Gc::new(
            mc,
            Pair {
                car: *car,
                cdr: *cdr,
            },
        )),
        (Car, [Value::Pair(p)]) => mc[*p].car,
        (Cdr, [Value::Pair(p)]) => mc[*p].cdr,
        (IsNull, [v]) => Value::Bool(matches!(v, Value::Nil)),
        _ => return Err(format!("bad arguments for {b:?}")),
    })
}

/// Runs one top-level form; an integer result comes back out of the
/// mutation as a plain `i64` (handles cannot leave it).
fn run(heap: &mut Heap<Interp<'static>>, src: &str) -> Result<Option<i64>> {
    heap.mutate(|mc, interp| {
        let form = interp.read(mc, src)?;
        let global = interp.global;
        Ok(match eval(mc, interp, form, global)? {
            Value::Int(n) => Some(n),
            _ => None,
        })
    })
}

pub(crate) fn main() -> Result<()> {
    let mut heap: Heap<Interp<'static>> = Heap::new(|mc| Interp::new(mc));
    heap.mutate(|mc, interp| interp.define_builtins(mc));
    // Collect once 64 KiB were allocated since the last collection.
    heap.set_pacing(Pacing {
        min_bytes: 64 << 10,
        growth: 1.0,
    });

    let program = [
        "(define fib (lambda (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))))",
        "(define range (lambda (a b) (if (< a b) (cons a (range (+ a 1) b)) '())))",
        "(define map (lambda (f l) (if (null? l) '() (cons (f (car l)) (map f (cdr l))))))",
        "(define sum (lambda (l) (if (null? l) 0 (+ (car l) (sum (cdr l))))))",
        "(define make-counter (lambda () (begin (define n 0) (lambda () (begin (set! n (+ n 1)) n)))))",
        "(define tick (make-counter))",
    ];
    for form in program {
        run(&mut heap, form)?;
    }
    assert_eq!(run(&mut heap, "(fib 15)")?, Some(610));

    // A REPL session: every form builds and drops lists; the heap collects
    // between forms when due, and the counter's state survives each move.
    let (mut collections, mut freed) = (0, 0);
    for round in 1..=200 {
        let squares = run(&mut heap, "(sum (map (lambda (x) (* x x)) (range 0 100)))")?;
        assert_eq!(squares, Some(328_350));
        assert_eq!(run(&mut heap, "(tick)")?, Some(round));
        if let Some(stats) = heap.collect_if_due() {
            collections += 1;
            freed += stats.freed_bytes;
        }
    }
    assert!(collections > 10, "the pacing collects every few rounds");
    assert_eq!(run(&mut heap, "(fib 10)")?, Some(55));

    let stats = heap.collect();
    println!(
        "{collections} collections reclaimed {} KiB; {} objects live after the last one ({} bytes)",
        freed >> 10,
        stats.live_objects,
        stats.live_bytes,
    );
    // What survives is the program's definitions: the global scope, the
    // closures and their bodies (the forms, as pairs), the counter's scope.
    assert!(
        stats.live_objects < 400,
        "{} objects live",
        stats.live_objects
    );
    match run(&mut heap, "(undefined 1)") {
        Err(e) => println!("error, as expected: {e}"),
        Ok(v) => panic!("an unbound variable evaluated to {v:?}"),
    }
    Ok(())
}
