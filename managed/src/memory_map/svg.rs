//! The SVG rendering of memory maps: plain string building, no dependency.

use alloc::string::String;
use core::fmt::Write;

use super::{Block, MemoryMap, SpanKind, human};

/// Width of the picture.
const WIDTH: f64 = 960.0;
/// Width of the label column, left of the bars.
const LABELS: f64 = 190.0;
/// Room right of the bars.
const RIGHT: f64 = 16.0;
/// Height of one bar, and the gap below it.
const ROW: f64 = 16.0;
const GAP: f64 = 4.0;
/// Longest label drawn, in characters.
const LABEL_CHARS: usize = 20;

/// The fill of each kind (the hatch pattern for opaque bytes).
pub(super) fn fill(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Live => "#43a047",
        SpanKind::Free => "#eceff1",
        SpanKind::Padding => "#ffb74d",
        SpanKind::Header => "#1e88e5",
        SpanKind::Metadata => "#8e24aa",
        SpanKind::Opaque => "url(#opaque)",
    }
}

/// Escapes `text` for an XML text node or attribute.
fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            '"' => s.push_str("&quot;"),
            _ => s.push(c),
        }
    }
    s
}

/// `label` cut to [`LABEL_CHARS`] characters (with an ellipsis).
fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.into()
    } else {
        let mut s: String = label.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// One SVG picture of several maps stacked top to bottom (a container
/// before and after `compact` or `shrink_to_fit`), drawn to one scale, so
/// that equal bytes have equal widths in every map, with one legend.
///
/// ```
/// use managed::memory_map::{MemoryMap, SpanKind, svg_of};
///
/// let mut before = MemoryMap::new("before");
/// before.push_uniform("page", 0, SpanKind::Live, 100);
/// let mut after = MemoryMap::new("after");
/// after.push_uniform("page", 0, SpanKind::Live, 50);
/// let svg = svg_of(&[&before, &after]);
/// assert!(svg.contains(">before<") && svg.contains(">after<"));
/// ```
#[must_use]
pub fn svg_of(maps: &[&MemoryMap]) -> String {
    let largest = maps
        .iter()
        .flat_map(|m| m.blocks().iter().take(MemoryMap::MAX_ROWS))
        .map(Block::len)
        .max()
        .unwrap_or(1)
        .max(1);
    let scale = (WIDTH - LABELS - RIGHT) / largest as f64;

    let mut body = String::new();
    let mut y = 8.0;
    for map in maps {
        y += 18.0;
        let _ = write!(
            body,
            r#"<text x="8" y="{y}" class="title">{}</text>"#,
            escape(map.title())
        );
        y += 10.0;
        for block in map.blocks().iter().take(MemoryMap::MAX_ROWS) {
            row(&mut body, block, y, scale);
            y += ROW + GAP;
        }
        let hidden = map.blocks().len().saturating_sub(MemoryMap::MAX_ROWS);
        if hidden > 0 {
            let bytes: usize = map.blocks()[MemoryMap::MAX_ROWS..]
                .iter()
                .map(Block::len)
                .sum();
            y += 12.0;
            let _ = write!(
                body,
                r#"<text x="8" y="{y}" class="small">… and {hidden} more blocks ({})</text>"#,
                human(bytes)
            );
            y += 4.0;
        }
        y += 12.0;
        let _ = write!(
            body,
            r#"<text x="8" y="{y}" class="small">{}</text>"#,
            escape(&map.caption())
        );
        y += 8.0;
    }

    // The legend.
    y += 18.0;
    let mut x = 8.0;
    for kind in SpanKind::ALL {
        let _ = write!(
            body,
            r##"<rect x="{x}" y="{}" width="14" height="12" fill="{}" stroke="#555" stroke-width="0.5"/><text x="{}" y="{y}" class="small">{kind}</text>"##,
            y - 10.0,
            fill(kind),
            x + 19.0,
        );
        x += 110.0;
    }
    y += 10.0;

    let mut classes = String::new();
    for kind in SpanKind::ALL {
        let _ = write!(classes, " .k{}{{fill:{}}}", kind.index(), fill(kind));
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y}" viewBox="0 0 {WIDTH} {y}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<defs><pattern id="opaque" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#cfd8dc"/><rect width="2" height="6" fill="#78909c"/></pattern>
<style>.title{{font-size:14px;font-weight:bold}} .label{{font-size:11px;font-family:DejaVu Sans Mono, Menlo, Consolas, monospace}} .small{{font-size:11px}}{classes}</style></defs>
<rect width="100%" height="100%" fill="#ffffff"/>
"##
    );
    svg.push_str(&body);
    svg.push_str("\n</svg>\n");
    svg
}

/// Draws `block` as one bar at height `y`.
fn row(out: &mut String, block: &Block, y: f64, scale: f64) {
    let _ = write!(
        out,
        r#"
<text x="8" y="{}" class="label">{}</text><text x="{}" y="{}" class="label" text-anchor="end">{}</text>"#,
        y + 12.0,
        escape(&short(block.label())),
        LABELS - 8.0,
        y + 12.0,
        human(block.len())
    );
    let width = (block.len() as f64 * scale).max(2.0);
    let per_byte = width / block.len() as f64;
    // `f64::ceil` needs `std`; `width` is positive and small.
    let pixels = width as usize + usize::from(width > (width as usize) as f64);
    let _ = write!(out, r#"<g transform="translate({LABELS},{y})">"#);
    if block.spans().len() * 4 <= pixels {
        for span in block.spans() {
            rect(
                out,
                span.offset as f64 * per_byte,
                span.len as f64 * per_byte,
                span.kind,
            );
        }
    } else {
        // More spans than a quarter of the pixels: one rectangle per run of pixels
        // of the same dominant kind.
        let cells = block.cells(pixels);
        let dominant = |c: &[usize; 6]| {
            SpanKind::ALL
                .into_iter()
                .max_by_key(|k| c[k.index()])
                .unwrap_or(SpanKind::Free)
        };
        let px = width / pixels as f64;
        let mut start = 0;
        while start < cells.len() {
            let kind = dominant(&cells[start]);
            let mut end = start + 1;
            while end < cells.len() && dominant(&cells[end]) == kind {
                end += 1;
            }
            rect(out, start as f64 * px, (end - start) as f64 * px, kind);
            start = end;
        }
    }
    let _ = write!(
        out,
        r##"<rect width="{width:.1}" height="{ROW}" fill="none" stroke="#455a64" stroke-width="0.6"/></g>"##
    );
}

/// One coloured rectangle of a bar (its class names its kind's fill).
fn rect(out: &mut String, x: f64, w: f64, kind: SpanKind) {
    let _ = write!(
        out,
        r#"<rect x="{x:.1}" width="{w:.1}" height="{ROW}" class="k{}"/>"#,
        kind.index()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "string building in safe code: nothing for Miri to check"
    )]
    fn labels_are_escaped_and_shortened() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(short("short"), "short");
        assert_eq!(short("a label far too long to draw").chars().count(), 20);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "string building in safe code: nothing for Miri to check"
    )]
    fn a_picture_has_a_row_per_block_and_a_legend() {
        let mut map = MemoryMap::new("Pool<u8> & co");
        let mut page = Block::new("page 0", 0);
        page.push(SpanKind::Header, 64)
            .push(SpanKind::Live, 1000)
            .push(SpanKind::Free, 3032);
        map.push(page);
        map.push_uniform("idle", 0, SpanKind::Free, 4096);
        let svg = map.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("Pool&lt;u8&gt; &amp; co"));
        assert!(svg.contains(">page 0<") && svg.contains(">idle<"));
        assert_eq!(svg.matches(">4 KiB<").count(), 2);
        for kind in SpanKind::ALL {
            assert!(
                svg.contains(&alloc::format!(">{kind}<")),
                "{kind} in the legend"
            );
        }
        assert!(svg.contains(&map.caption()));
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "string building in safe code: nothing for Miri to check"
    )]
    fn crowded_blocks_are_drawn_per_pixel() {
        // 4096 alternating spans in one block: far more than its pixels.
        let mut b = Block::new("crowded", 0);
        for i in 0..4096 {
            b.push(
                if i % 2 == 0 {
                    SpanKind::Live
                } else {
                    SpanKind::Free
                },
                8,
            );
        }
        let mut map = MemoryMap::new("m");
        map.push(b);
        let svg = map.to_svg();
        let rects = svg.matches("<rect").count();
        assert!(rects < 1000, "{rects} rectangles for a 770-pixel bar");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "string building in safe code: nothing for Miri to check"
    )]
    fn many_blocks_are_summed_up() {
        let mut map = MemoryMap::new("m");
        for i in 0..MemoryMap::MAX_ROWS + 5 {
            map.push_uniform(alloc::format!("b{i}"), 0, SpanKind::Live, 10);
        }
        let svg = map.to_svg();
        assert!(svg.contains("… and 5 more blocks (50 B)"));
        assert!(!svg.contains(&alloc::format!(">b{}<", MemoryMap::MAX_ROWS)));
    }
}
