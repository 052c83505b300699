//! An outliner: a document editor whose blocks (headings, paragraphs,
//! list items) form a tree on the garbage-collected heap, while the
//! editor's own state lives outside it: two views with a cursor each, an
//! undo and a redo history whose edits remember the blocks they touched,
//! and a clipboard. All of those keep `Held` handles: the blocks they
//! point at stay alive as long as an edit or a view needs them, and follow
//! the blocks whenever a collection slides them together. The document's
//! jump list ("go back") must not keep deleted blocks alive, so it holds
//! weak handles, which forget a block once a collection drops it.
//!
//! A script of edits runs one command per mutation, with a collection
//! whenever one is due; the history keeps the last few edits only, so the
//! blocks that deleted subtrees and replaced texts leave behind become
//! garbage once their edits fall out of it.
//!
//! Run with `cargo run --example outliner`.

use managed::prelude::*;

/// What a block is.
#[derive(Managed, Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Heading,
    Paragraph,
    Item,
}

/// A block of the document: its text and its place in the tree.
#[derive(Managed)]
struct Block<'gc> {
    kind: Kind,
    text: String,
    parent: Option<Gc<'gc, Block<'gc>>>,
    children: Vec<Gc<'gc, Block<'gc>>>,
}

/// The heap's root: the document's top block, and the blocks jumped to,
/// most recent last. The jump list must not keep deleted blocks alive, so
/// it holds weak handles: a block deleted for good (its edit gone from the
/// history) drops out of it at the next collection.
#[derive(Managed)]
struct Document<'gc> {
    body: Gc<'gc, Block<'gc>>,
    jumps: Vec<GcWeak<'gc, Block<'gc>>>,
}

/// A block, held by the editor outside the heap.
type BlockRef = Held<Block<'static>>;

/// One undoable change. Each remembers the blocks it needs to undo and
/// redo itself, so a deleted subtree stays alive while its edit is in a
/// history, and is collected once the edit is dropped.
enum Edit {
    /// `block` was put under `parent` at `index`.
    Insert {
        parent: BlockRef,
        index: usize,
        block: BlockRef,
    },
    /// `block` was taken from under `parent` at `index`.
    Remove {
        parent: BlockRef,
        index: usize,
        block: BlockRef,
    },
    /// `block`'s text was `before` and is `after`.
    Retext {
        block: BlockRef,
        before: String,
        after: String,
    },
}

/// A window onto the document: the block its cursor is in.
struct View {
    name: &'static str,
    cursor: BlockRef,
}

/// The editor: the heap holds the document, the rest is the program's.
struct Editor {
    heap: Heap<Document<'static>>,
    views: Vec<View>,
    undo: Vec<Edit>,
    redo: Vec<Edit>,
    clipboard: Option<BlockRef>,
    history_limit: usize,
}

fn block<'gc>(mc: &Mutation<'gc>, kind: Kind, text: &str) -> Gc<'gc, Block<'gc>> {
    Gc::new(
        mc,
        Block {
            kind,
            text: text.to_owned(),
            parent: None,
            children: Vec::new(),
        },
    )
}

/// Puts `child` under `parent` at `index`.
fn attach<'gc>(
    mc: &mut Mutation<'gc>,
    parent: Gc<'gc, Block<'gc>>,
    index: usize,
    child: Gc<'gc, Block<'gc>>,
) {
    mc[child].parent = Some(parent);
    mc[parent].children.insert(index, child);
}

/// Takes `child` from under its parent; returns the parent and the index.
fn detach<'gc>(mc: &mut Mutation<'gc>, child: Gc<'gc, Block<'gc>>) -> (Gc<'gc, Block<'gc>>, usize) {
    let parent = mc[child].parent.take().expect("the body is never detached");
    let siblings = &mut mc[parent].children;
    let index = siblings
        .iter()
        .position(|&c| c == child)
        .expect("a child of its parent");
    siblings.remove(index);
    (parent, index)
}

/// A deep copy of `b`'s subtree (for pasting a block twice).
fn copy<'gc>(mc: &mut Mutation<'gc>, b: Gc<'gc, Block<'gc>>) -> Gc<'gc, Block<'gc>> {
    let new = block(mc, mc[b].kind, &mc[b].text);
    for i in 0..mc[b].children.len() {
        let child = copy(mc, mc[b].children[i]);
        attach(mc, new, i, child);
    }
    new
}

/// The document as indented lines.
fn render<'gc>(mc: &Mutation<'gc>, b: Gc<'gc, Block<'gc>>, depth: usize, out: &mut Vec<String>) {
    for &child in &mc[b].children {
        let marker = match mc[child].kind {
            Kind::Heading => "# ",
            Kind::Paragraph => "",
            Kind::Item => "- ",
        };
        out.push(format!("{}{marker}{}", "  ".repeat(depth), mc[child].text));
        render(mc, child, depth + 1, out);
    }
}

impl Editor {
    fn new() -> Self {
        let mut heap: Heap<Document<'static>> = Heap::with_chunk_size(4 << 10, |mc| Document {
            body: block(mc, Kind::Paragraph, ""),
            jumps: Vec::new(),
        });
        heap.set_pacing(Pacing {
            min_bytes: 2 << 10,
            growth: 1.0,
        });
        let cursor = heap.read(|mc, doc| mc.hold(doc.body));
        Editor {
            heap,
            views: vec![
                View {
                    name: "main",
                    cursor: cursor.clone(),
                },
                View {
                    name: "outline",
                    cursor,
                },
            ],
            undo: Vec::new(),
            redo: Vec::new(),
            clipboard: None,
            history_limit: 8,
        }
    }

    /// Applies `edit` forwards (do, redo) or backwards (undo).
    fn apply(&mut self, edit: &Edit, forwards: bool) {
        self.heap.mutate(|mc, _| match (edit, forwards) {
            (
                Edit::Insert {
                    parent,
                    index,
                    block,
                },
                true,
            )
            | (
                Edit::Remove {
                    parent,
                    index,
                    block,
                },
                false,
            ) => {
                let (parent, block) = (mc.fetch(parent), mc.fetch(block));
                attach(mc, parent, *index, block);
            }
            (Edit::Insert { block, .. }, false) | (Edit::Remove { block, .. }, true) => {
                let block = mc.fetch(block);
                detach(mc, block);
            }
            (
                Edit::Retext {
                    block,
                    before,
                    after,
                },
                _,
            ) => {
                mc[block].text = if forwards { after } else { before }.clone();
            }
        });
    }

    /// Does `edit` and records it; the oldest edits fall out of the history.
    fn perform(&mut self, edit: Edit) {
        self.apply(&edit, true);
        self.undo.push(edit);
        self.redo.clear();
        if self.undo.len() > self.history_limit {
            self.undo.remove(0);
        }
        self.heap.collect_if_due();
    }

    fn undo(&mut self) {
        if let Some(edit) = self.undo.pop() {
            self.apply(&edit, false);
            self.redo.push(edit);
        }
    }

    fn redo(&mut self) {
        if let Some(edit) = self.redo.pop() {
            self.apply(&edit, true);
            self.undo.push(edit);
        }
    }

    /// A new block after the cursor of view `v` (as its next sibling),
    /// where the cursor moves.
    fn new_block(&mut self, v: usize, kind: Kind, text: &str) {
        let cursor = &self.views[v].cursor;
        let (parent, index, new) = self.heap.mutate(|mc, doc| {
            let at = mc.fetch(cursor);
            let new = block(mc, kind, text);
            let (parent, index) = match mc[at].parent {
                Some(p) => (p, 1 + mc[p].children.iter().position(|&c| c == at).unwrap()),
                None => (doc.body, mc[doc.body].children.len()),
            };
            (mc.hold(parent), index, mc.hold(new))
        });
        self.views[v].cursor = new.clone();
        self.perform(Edit::Insert {
            parent,
            index,
            block: new,
        });
    }

    /// A new block as the last child of the cursor's block.
    fn new_child(&mut self, v: usize, kind: Kind, text: &str) {
        let cursor = self.views[v].cursor.clone();
        let (index, new) = self.heap.mutate(|mc, _| {
            let new = block(mc, kind, text);
            (mc[&cursor].children.len(), mc.hold(new))
        });
        self.views[v].cursor = new.clone();
        self.perform(Edit::Insert {
            parent: cursor,
            index,
            block: new,
        });
    }

    /// Types `text` at the end of the cursor's block.
    fn type_text(&mut self, v: usize, text: &str) {
        let block = self.views[v].cursor.clone();
        let before = self.heap.read(|mc, _| mc[&block].text.clone());
        let after = before.clone() + text;
        self.perform(Edit::Retext {
            block,
            before,
            after,
        });
    }

    /// Replaces the text of the cursor's block.
    fn set_text(&mut self, v: usize, text: &str) {
        let block = self.views[v].cursor.clone();
        let before = self.heap.read(|mc, _| mc[&block].text.clone());
        self.perform(Edit::Retext {
            block,
            before,
            after: text.to_owned(),
        });
    }

    /// Moves the cursor of view `v` to the first block whose text starts
    /// with `text`.
    fn find(&mut self, v: usize, text: &str) {
        let found = self.heap.mutate(|mc, doc| {
            let mut stack = vec![doc.body];
            while let Some(b) = stack.pop() {
                if mc[b].text.starts_with(text) {
                    doc.jumps.push(b.downgrade());
                    return Some(mc.hold(b));
                }
                stack.extend(mc[b].children.iter().rev());
            }
            None
        });
        self.views[v].cursor = found.expect("the block exists");
    }

    /// Moves the cursor of view `v` back to the most recent block jumped
    /// to that still exists and is in the document; false if none is.
    fn back(&mut self, v: usize) -> bool {
        let found = self.heap.mutate(|mc, doc| {
            while let Some(jump) = doc.jumps.pop() {
                let Some(b) = jump.upgrade(mc) else { continue };
                // Still in the document (cut blocks have no parent).
                if mc[b].parent.is_some() {
                    return Some(mc.hold(b));
                }
            }
            None
        });
        match found {
            Some(block) => {
                self.views[v].cursor = block;
                true
            }
            None => false,
        }
    }

    /// Blocks in the jump list that still exist.
    fn jumps_alive(&self) -> usize {
        self.heap
            .read(|mc, doc| doc.jumps.iter().filter(|j| j.upgrade(mc).is_some()).count())
    }

    /// Cuts the cursor's block (and its subtree) to the clipboard; the
    /// cursor moves to the parent.
    fn cut(&mut self, v: usize) {
        let block = self.views[v].cursor.clone();
        let (parent, index) = self.heap.read(|mc, _| {
            let b = mc.fetch(&block);
            let parent = mc[b].parent.expect("not the body");
            (
                mc.hold(parent),
                mc[parent].children.iter().position(|&c| c == b).unwrap(),
            )
        });
        for view in &mut self.views {
            if Held::ptr_eq(&view.cursor, &block) {
                view.cursor = parent.clone();
            }
        }
        self.clipboard = Some(block.clone());
        self.perform(Edit::Remove {
            parent,
            index,
            block,
        });
    }

    /// Pastes a copy of the clipboard as the cursor's last child.
    fn paste(&mut self, v: usize) {
        let Some(clip) = self.clipboard.clone() else {
            return;
        };
        let parent = self.views[v].cursor.clone();
        let (index, new) = self.heap.mutate(|mc, _| {
            let new = copy(mc, mc.fetch(&clip));
            (mc[&parent].children.len(), mc.hold(new))
        });
        self.perform(Edit::Insert {
            parent,
            index,
            block: new,
        });
    }

    fn lines(&self) -> Vec<String> {
        self.heap.read(|mc, doc| {
            let mut out = Vec::new();
            render(mc, doc.body, 0, &mut out);
            out
        })
    }

    fn cursor_text(&self, v: usize) -> String {
        self.heap
            .read(|mc, _| mc[&self.views[v].cursor].text.clone())
    }
}

pub(crate) fn main() {
    let mut ed = Editor::new();
    ed.new_child(0, Kind::Heading, "Groceries");
    ed.new_child(0, Kind::Item, "bread");
    ed.new_block(0, Kind::Item, "milk");
    ed.new_block(0, Kind::Item, "tea");
    ed.find(1, "Groceries");
    ed.new_block(1, Kind::Heading, "Chores");
    ed.new_child(1, Kind::Item, "laundry");
    ed.type_text(0, " (green)");
    assert_eq!(
        ed.lines(),
        [
            "# Groceries",
            "  - bread",
            "  - milk",
            "  - tea (green)",
            "# Chores",
            "  - laundry"
        ]
    );

    // Undo and redo through the history; the views' cursors stay put.
    ed.undo();
    ed.undo();
    assert_eq!(
        ed.lines(),
        [
            "# Groceries",
            "  - bread",
            "  - milk",
            "  - tea",
            "# Chores"
        ]
    );
    ed.redo();
    ed.redo();
    assert_eq!(ed.lines().len(), 6);
    assert_eq!(
        (ed.cursor_text(0), ed.cursor_text(1)),
        ("tea (green)".into(), "laundry".into())
    );

    // Cut the groceries, paste them under the chores twice.
    ed.find(0, "Groceries");
    ed.cut(0);
    ed.find(0, "Chores");
    ed.paste(0);
    ed.paste(0);
    assert_eq!(
        ed.lines(),
        [
            "# Chores",
            "  - laundry",
            "  # Groceries",
            "    - bread",
            "    - milk",
            "    - tea (green)",
            "  # Groceries",
            "    - bread",
            "    - milk",
            "    - tea (green)",
        ]
    );

    // A long session: each round retypes a block, adds an item and
    // deletes it again. The retyped texts and deleted items become garbage
    // once their edits leave the eight-edit history.
    let mut most_reserved = 0;
    for round in 0..600 {
        ed.find(0, "laundry");
        ed.set_text(0, &format!("laundry {round}"));
        ed.new_block(0, Kind::Item, "temporary");
        ed.cut(0);
        let laundry = ed
            .lines()
            .into_iter()
            .find(|l| l.contains("laundry"))
            .unwrap();
        assert!(laundry.ends_with(&format!(" {round}")), "{laundry}");
        most_reserved = most_reserved.max(ed.heap.stats().reserved_bytes);
    }
    // 600 blocks were made and deleted, 37 KiB; the heap collected them
    // as it went and never held more than a few 4 KiB chunks.
    let stats = ed.heap.detailed_stats();
    assert!(stats.collections >= 10, "{stats}");
    assert!(most_reserved <= 8 << 10, "{most_reserved}");
    // Undo what the history still holds, then redo it all.
    let kept = ed.undo.len();
    assert_eq!(kept, 8);
    for _ in 0..kept {
        ed.undo();
    }
    assert!(ed.lines()[1].ends_with(" 597"), "{:?}", ed.lines());
    for _ in 0..kept {
        ed.redo();
    }
    assert!(ed.lines()[1].ends_with(" 599"));

    // The jump list saw "Groceries" twice, "Chores" once and "laundry"
    // 600 times. The Groceries it saw is the one cut to the clipboard:
    // the session's cuts replaced it there, and its edit left the
    // history, so a collection dropped it, and the jump list forgets it.
    assert_eq!(ed.jumps_alive(), 601);
    // Drop the history and the clipboard: only the document and what the
    // views show stay.
    ed.undo.clear();
    ed.redo.clear();
    ed.clipboard = None;
    let stats = ed.heap.collect();
    // The body, "Chores", "laundry" and two copies of four blocks; the
    // views' cursors point into the document.
    assert_eq!(stats.live_objects, 11);
    assert_eq!(ed.heap.detailed_stats().held, 2);
    // Going back lands on "laundry", and last on "Chores".
    assert!(ed.back(0));
    assert!(ed.cursor_text(0).starts_with("laundry"));
    while ed.back(0) {}
    assert_eq!(ed.cursor_text(0), "Chores");
    println!("{}", ed.lines().join("\n"));
    for v in 0..ed.views.len() {
        println!("view {}: at {:?}", ed.views[v].name, ed.cursor_text(v));
    }
    println!("{}", ed.heap.detailed_stats());
}
