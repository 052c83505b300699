//! Runs the example programs (all but the tour, which writes files): each
//! asserts what it shows, so each is a test of the public API as a user
//! writes it. Ignored under Miri: they use the safe API only, whose unsafe
//! code the runtime's own suites run there, and they run for seconds
//! natively (hours under the interpreter).

#[path = "../../examples/build_jobs.rs"]
mod build_jobs;
#[cfg(target_pointer_width = "64")]
#[path = "../../examples/compiler_ir.rs"]
mod compiler_ir;
#[path = "../../examples/components.rs"]
mod components;
#[path = "../../examples/drop_arena_list.rs"]
mod drop_arena_list;
#[path = "../../examples/flock.rs"]
mod flock;
#[path = "../../examples/hot_nan_tagging.rs"]
mod hot_nan_tagging;
#[path = "../../examples/interpreter.rs"]
mod interpreter;
#[path = "../../examples/nan_vm.rs"]
mod nan_vm;
#[path = "../../examples/node_editor.rs"]
mod node_editor;
#[path = "../../examples/outliner.rs"]
mod outliner;
#[path = "../../examples/particles.rs"]
mod particles;
#[cfg(target_pointer_width = "64")]
#[path = "../../examples/region_editor.rs"]
mod region_editor;
#[cfg(target_pointer_width = "64")]
#[path = "../../examples/region_scene.rs"]
mod region_scene;
#[path = "../../examples/rollback.rs"]
mod rollback;
#[path = "../../examples/scene_graph.rs"]
mod scene_graph;
#[path = "../../examples/scene_inspector.rs"]
mod scene_inspector;
#[path = "../../examples/scoped_render.rs"]
mod scoped_render;
#[path = "../../examples/spreadsheet.rs"]
mod spreadsheet;
#[path = "../../examples/widget_tree.rs"]
mod widget_tree;

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn build_jobs_runs() {
    build_jobs::main();
}

#[cfg(target_pointer_width = "64")]
#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn compiler_ir_runs() {
    compiler_ir::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn components_runs() {
    components::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn drop_arena_list_runs() {
    drop_arena_list::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn flock_runs() {
    flock::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn hot_nan_tagging_runs() {
    hot_nan_tagging::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn interpreter_runs() {
    interpreter::main().expect("the program runs without a language error");
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn nan_vm_runs() {
    nan_vm::main().expect("the programs run without a VM error");
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn node_editor_runs() {
    node_editor::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn outliner_runs() {
    outliner::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn particles_runs() {
    particles::main();
}

#[cfg(target_pointer_width = "64")]
#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn region_editor_runs() {
    region_editor::main();
}

#[cfg(target_pointer_width = "64")]
#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn region_scene_runs() {
    region_scene::main().expect("the region has room for the scene");
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn rollback_runs() {
    rollback::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn scene_graph_runs() {
    scene_graph::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn scene_inspector_runs() {
    scene_inspector::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn scoped_render_runs() {
    scoped_render::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn spreadsheet_runs() {
    spreadsheet::main();
}

#[test]
#[cfg_attr(miri, ignore = "seconds natively; the safe API only")]
fn widget_tree_runs() {
    widget_tree::main();
}

/// Every example program is listed in README.md's table of examples and
/// run by a test of this module (the tour, a directory, writes files and
/// is only listed).
#[test]
#[cfg_attr(miri, ignore = "reads files, which Miri's isolation refuses")]
fn every_example_is_listed_and_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let this = std::fs::read_to_string(root.join("tests/all/examples.rs")).expect("examples.rs");
    let mut names: Vec<String> = std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 18, "{names:?}");
    for name in &names {
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "README.md lists no `{name}`"
        );
        assert!(
            this.contains(&format!("fn {name}_runs()")),
            "no test runs `{name}`"
        );
    }
}
