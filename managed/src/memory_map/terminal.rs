//! The text rendering of memory maps: one line per block.

use alloc::string::String;
use core::fmt::Write;

use super::{Block, MemoryMap, SpanKind, human};

/// Characters of the label column.
const LABEL: usize = 16;
/// Characters of the size column.
const SIZE: usize = 9;
/// Columns besides the bar: the label, a space, two borders, the size.
const FRAME: usize = LABEL + 1 + 2 + SIZE;
/// The narrowest rendering.
const MIN_WIDTH: usize = 40;

/// The character of each kind.
pub(super) const fn glyph(kind: SpanKind) -> char {
    match kind {
        SpanKind::Live => '█',
        SpanKind::Free => '·',
        SpanKind::Padding => '░',
        SpanKind::Header => '▓',
        SpanKind::Metadata => '▒',
        SpanKind::Opaque => '╱',
    }
}

/// The glyph of one cell, and the kind whose colour it takes: the kind
/// covering most of the cell's bytes, except that a cell at least a quarter
/// live where live bytes are not the most is [`PART_LIVE`] (so that live
/// values scattered among holes stay visible); a space for an empty cell.
fn cell_glyph(cell: &[usize; 6]) -> (Option<SpanKind>, char) {
    let total: usize = cell.iter().sum();
    let most = SpanKind::ALL
        .into_iter()
        .filter(|k| cell[k.index()] > 0)
        .max_by_key(|k| cell[k.index()]);
    let live = cell[SpanKind::Live.index()];
    match most {
        None => (None, ' '),
        Some(kind) if kind != SpanKind::Live && live * 4 >= total => {
            (Some(SpanKind::Live), PART_LIVE)
        }
        Some(kind) => (Some(kind), glyph(kind)),
    }
}

/// The glyph of a cell partly live (see [`cell_glyph`]).
const PART_LIVE: char = '▌';

/// The ANSI (24-bit) foreground colour of each kind, as in the SVG.
const fn colour(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Live => "\x1b[38;2;67;160;71m",
        SpanKind::Free => "\x1b[38;2;144;164;174m",
        SpanKind::Padding => "\x1b[38;2;255;183;77m",
        SpanKind::Header => "\x1b[38;2;30;136;229m",
        SpanKind::Metadata => "\x1b[38;2;142;36;170m",
        SpanKind::Opaque => "\x1b[38;2;120;144;156m",
    }
}

const RESET: &str = "\x1b[0m";

/// Renders `map` in at most `width` columns (at least [`MIN_WIDTH`]).
pub(super) fn render(map: &MemoryMap, width: usize, ansi: bool) -> String {
    let width = width.max(MIN_WIDTH);
    let bar = width - FRAME;
    let largest = map
        .blocks()
        .iter()
        .take(MemoryMap::MAX_ROWS)
        .map(Block::len)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut out = String::new();
    wrap(&mut out, map.title(), width);
    for block in map.blocks().iter().take(MemoryMap::MAX_ROWS) {
        let cells = ((bar as u128 * block.len() as u128).div_ceil(largest as u128) as usize).max(1);
        let label: String = block.label().chars().take(LABEL).collect();
        let _ = write!(out, "{label:<LABEL$} │");
        let mut current: Option<SpanKind> = None;
        for cell in block.cells(cells) {
            let (kind, c) = cell_glyph(&cell);
            if ansi && kind != current {
                if let Some(k) = kind {
                    out.push_str(colour(k));
                } else {
                    out.push_str(RESET);
                }
                current = kind;
            }
            out.push(c);
        }
        if ansi && current.is_some() {
            out.push_str(RESET);
        }
        let _ = writeln!(
            out,
            "{:pad$}│{:>SIZE$}",
            "",
            human(block.len()),
            pad = bar - cells
        );
    }
    let hidden = map.blocks().len().saturating_sub(MemoryMap::MAX_ROWS);
    if hidden > 0 {
        let bytes: usize = map.blocks()[MemoryMap::MAX_ROWS..]
            .iter()
            .map(Block::len)
            .sum();
        wrap(
            &mut out,
            &alloc::format!("… and {hidden} more blocks ({})", human(bytes)),
            width,
        );
    }
    // The legend, broken into lines of at most `width` visible characters.
    let mut line = 0;
    let entries = SpanKind::ALL.into_iter().flat_map(|kind| {
        let part = (kind == SpanKind::Live).then_some((kind, PART_LIVE, "part live"));
        [Some((kind, glyph(kind), kind.name())), part]
    });
    for (kind, c, name) in entries.flatten() {
        let visible = 2 + name.chars().count();
        if line > 0 && line + 2 + visible > width {
            out.push('\n');
            line = 0;
        }
        if line > 0 {
            out.push_str("  ");
            line += 2;
        }
        if ansi {
            out.push_str(colour(kind));
        }
        out.push(c);
        if ansi {
            out.push_str(RESET);
        }
        let _ = write!(out, " {name}");
        line += visible;
    }
    out.push('\n');
    wrap(&mut out, &map.caption(), width);
    out
}

/// Appends `text` as lines of at most `width` characters, broken at
/// spaces (a word longer than a line is cut).
fn wrap(out: &mut String, text: &str, width: usize) {
    let mut line = 0;
    for word in text.split(' ') {
        let len = word.chars().count();
        if line > 0 && line + 1 + len > width {
            out.push('\n');
            line = 0;
        }
        if line > 0 {
            out.push(' ');
            line += 1;
        }
        for c in word.chars().take(width) {
            out.push(c);
        }
        line += len.min(width);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MemoryMap {
        let mut map = MemoryMap::new("a pool with a rather long title that must wrap somewhere");
        let mut page = Block::new("page 0 of the pool, labelled at length", 0);
        page.push(SpanKind::Header, 1024)
            .push(SpanKind::Live, 2048)
            .push(SpanKind::Free, 1024);
        map.push(page);
        map.push_uniform("half", 0, SpanKind::Padding, 2048);
        map
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "string building in safe code: nothing for Miri to check"
    )]
    fn lines_fit_the_width_and_bars_follow_the_sizes() {
        for width in [40, 64, 100] {
            let text = sample().to_terminal(width);
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{line:?} wider than {width}");
            }
            let bars: Vec<&str> = text.lines().filter(|l| l.contains('│')).collect();
            assert_eq!(bars.len(), 2);
            let page = bars[0].split('│').nth(1).unwrap();
            let half = bars[1].split('│').nth(1).unwrap();
            let bar = width - FRAME;
            assert_eq!(page.chars().filter(|&c| c != ' ').count(), bar);
            assert_eq!(half.chars().filter(|&c| c != ' ').count(), bar / 2);
            // A quarter header, half live, a quarter free.
            assert_eq!(page.chars().filter(|&c| c == '█').count(), bar / 2);
            assert!(page.starts_with('▓') && page.ends_with('·'));
            assert!(half.chars().all(|c| c == '░' || c == ' '));
        }
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "string building in safe code: nothing for Miri to check"
    )]
    fn narrow_widths_are_raised_and_ansi_adds_only_colours() {
        let plain = sample().to_terminal(10);
        assert!(plain.lines().all(|l| l.chars().count() <= MIN_WIDTH));
        let ansi = sample().to_ansi(10);
        assert!(ansi.contains("\x1b[38;2;67;160;71m"));
        let mut stripped = String::new();
        let mut chars = ansi.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                stripped.push(c);
            }
        }
        assert_eq!(stripped, plain);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "string building in safe code: nothing for Miri to check"
    )]
    fn scattered_live_bytes_stay_visible() {
        // A live byte in four: shown as part live, not as free.
        let mut b = Block::new("scattered", 0);
        for _ in 0..64 {
            b.push(SpanKind::Live, 8).push(SpanKind::Free, 24);
        }
        let mut map = MemoryMap::new("m");
        map.push(b);
        let text = map.to_terminal(60);
        let bar = text.lines().find(|l| l.contains('│')).unwrap();
        assert!(bar.contains(PART_LIVE) && !bar.contains('·'), "{bar}");
        // A live byte in eight: free.
        let mut b = Block::new("sparse", 0);
        for _ in 0..64 {
            b.push(SpanKind::Live, 8).push(SpanKind::Free, 56);
        }
        let mut map = MemoryMap::new("m");
        map.push(b);
        let text = map.to_terminal(60);
        let bar = text.lines().find(|l| l.contains('│')).unwrap();
        assert!(!bar.contains(PART_LIVE) && bar.contains('·'), "{bar}");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "string building in safe code: nothing for Miri to check"
    )]
    fn display_is_eighty_columns() {
        let map = sample();
        assert_eq!(alloc::format!("{map}"), map.to_terminal(80));
    }
}
