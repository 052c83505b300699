//! The report's pictures, drawn with `plotters` into SVG strings: one chart
//! of ratios per family, one line chart per size sweep.

use plotters::prelude::*;

use super::tables::{Family, Line, Side, Sweep};

/// Ratios are drawn on a log scale from `1 / RANGE` to `RANGE`.
const RANGE: f64 = 8.0;
/// Faster than the peer, slower than the peer, and the neutral colour.
const FASTER: RGBColor = RGBColor(67, 160, 71);
const SLOWER: RGBColor = RGBColor(229, 57, 53);
const INK: RGBColor = RGBColor(55, 71, 79);

/// The label of a line in the ratio chart: `ours vs peer` (the workload
/// heads its lines).
fn label(line: &Line) -> String {
    let name = |m: &Option<super::results::Measurement>| {
        m.as_ref()
            .map(|m| super::tables::RowName::of(m).name)
            .unwrap_or_default()
    };
    let mut s = format!("{} vs {}", name(&line.ours), name(&line.peer));
    if s.chars().count() > 72 {
        s = s.chars().take(71).collect::<String>() + "…";
    }
    s
}

/// One horizontal bar per compared line of `family`: `ours / peer` on a
/// log scale around 1.0, green where ours is faster, red where slower, with
/// the spread as a whisker. `None` when the family has no ratio to draw.
#[must_use]
pub fn ratios(family: &Family) -> Option<String> {
    let lines: Vec<(&Line, (f64, f64, f64))> = family
        .lines
        .iter()
        .filter_map(|l| l.ratio().map(|r| (l, r)))
        .collect();
    if lines.is_empty() {
        return None;
    }
    // One row per line, plus one per workload for its heading.
    let mut rows = Vec::new();
    for (line, ratio) in &lines {
        if rows
            .last()
            .is_none_or(|(l, _): &(&Line, _)| l.workload != line.workload)
        {
            rows.push((*line, None));
        }
        rows.push((*line, Some(*ratio)));
    }
    let (width, row) = (960u32, 20u32);
    let (left, right) = (520i32, 930i32);
    let height = 60 + row * rows.len() as u32;
    let x = |r: f64| {
        let t = (r.clamp(1.0 / RANGE, RANGE).log2() + RANGE.log2()) / (2.0 * RANGE.log2());
        left + (t * f64::from(right - left)) as i32
    };
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        area.fill(&WHITE).ok()?;
        let small = ("sans-serif", 14).into_font().color(&INK);
        let bold = ("sans-serif", 14)
            .into_font()
            .style(FontStyle::Bold)
            .color(&INK);
        let bottom = height as i32 - 34;
        for tick in [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0] {
            let style = if tick == 1.0 {
                INK.stroke_width(1)
            } else {
                RGBColor(207, 216, 220).stroke_width(1)
            };
            area.draw(&PathElement::new([(x(tick), 8), (x(tick), bottom)], style))
                .ok()?;
            let label = if tick < 1.0 {
                format!("1/{}", 1.0 / tick)
            } else {
                format!("{tick}")
            };
            area.draw(&Text::new(label, (x(tick) - 8, bottom + 6), small.clone()))
                .ok()?;
        }
        area.draw(&Text::new(
            "ours / peer (median; whisker: confidence interval); left of 1 is faster",
            (left - 120, bottom + 22),
            small.clone(),
        ))
        .ok()?;
        for (i, (line, ratio)) in rows.iter().enumerate() {
            let y = 10 + (i as u32 * row) as i32;
            let Some((r, lo, hi)) = *ratio else {
                area.draw(&Text::new(line.workload.clone(), (8, y + 2), bold.clone()))
                    .ok()?;
                continue;
            };
            area.draw(&Text::new(label(line), (20, y + 2), small.clone()))
                .ok()?;
            let colour = if r <= 1.0 { FASTER } else { SLOWER };
            let (a, b) = (x(1.0).min(x(r)), x(1.0).max(x(r)));
            area.draw(&Rectangle::new(
                [(a, y), (b.max(a + 1), y + 14)],
                colour.filled(),
            ))
            .ok()?;
            area.draw(&PathElement::new(
                [(x(lo), y + 7), (x(hi), y + 7)],
                INK.stroke_width(1),
            ))
            .ok()?;
            let value = format!("{r:.2}");
            area.draw(&Text::new(
                value,
                ((b + 4).min(right - 20), y + 1),
                small.clone(),
            ))
            .ok()?;
        }
        area.present().ok()?;
    }
    Some(svg)
}

/// Time per operation against the live count of one sweep, both axes
/// logarithmic, a line per row (ours solid, peers dashed-looking in grey
/// tones). `None` when the sweep has fewer than two points.
#[must_use]
pub fn sweep(sweep: &Sweep) -> Option<String> {
    let points = sweep.series.iter().flat_map(|s| s.2.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (u64::MAX, 0u64, f64::MAX, 0f64);
    let mut count = 0;
    for &(n, t) in points {
        x0 = x0.min(n.max(1));
        x1 = x1.max(n.max(1));
        y0 = y0.min(t);
        y1 = y1.max(t);
        count += 1;
    }
    if count < 2 || y1 <= 0.0 {
        return None;
    }
    let y0 = (y0 * 0.8).max(1e-3);
    let y1 = y1 * 1.25;
    let x1 = x1.max(x0 + 1);
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (720, 400)).into_drawing_area();
        area.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&area)
            .caption(&sweep.group, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d((x0 as f64..x1 as f64).log_scale(), (y0..y1).log_scale())
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("live values")
            .y_desc("ns per operation")
            .x_label_formatter(&|v| short_count(*v))
            .draw()
            .ok()?;
        let peers = [
            RGBColor(30, 136, 229),
            RGBColor(142, 36, 170),
            RGBColor(251, 140, 0),
            RGBColor(96, 125, 139),
        ];
        let mut peer = 0;
        for (name, side, points) in &sweep.series {
            let colour = if *side == Side::Ours {
                FASTER
            } else {
                peer += 1;
                peers[(peer - 1) % peers.len()]
            };
            let data: Vec<(f64, f64)> = points.iter().map(|&(n, t)| (n as f64, t)).collect();
            chart
                .draw_series(LineSeries::new(data.clone(), colour.stroke_width(2)))
                .ok()?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(data.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
                .ok()?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(INK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .ok()?;
        area.present().ok()?;
    }
    Some(svg)
}

/// `1000` as `1k`, `10000000` as `10M`.
fn short_count(v: f64) -> String {
    let (n, unit) = if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{}{unit}", (n * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::report::results::Measurement;
    use crate::report::tables::build;

    fn m(group: &str, function: &str, value: Option<&str>, median: f64) -> Measurement {
        Measurement {
            group: group.into(),
            function: function.into(),
            value: value.map(Into::into),
            elements: None,
            median,
            lower: median * 0.9,
            upper: median * 1.1,
            path: PathBuf::new(),
        }
    }

    #[test]
    fn ratio_chart_has_a_bar_per_compared_line() {
        let rows = [
            m("uniform/churn", "UniformPool", None, 50.0),
            m("uniform/churn", "slab", None, 100.0),
            m("uniform/iter", "UniformPool", None, 300.0),
            m("uniform/iter", "slab", None, 100.0),
            m("uniform/lonely", "UniformPool", None, 1.0),
        ];
        let built = build(&rows, &["uniform".to_owned()], &BTreeMap::new());
        let svg = ratios(&built[0]).expect("two ratios");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("\nchurn\n") && svg.contains("UniformPool vs slab"));
        assert!(svg.contains("\n0.50\n") && svg.contains("\n3.00\n"));
        // Green for faster, red for slower.
        assert!(svg.contains("#43A047") || svg.contains("#43a047"));
        assert!(svg.contains("#E53935") || svg.contains("#e53935"));
        let empty = build(&rows[4..], &["uniform".to_owned()], &BTreeMap::new());
        assert!(ratios(&empty[0]).is_none());
    }

    #[test]
    fn sweep_chart_names_every_row() {
        let rows = [
            m("uniform/churn/sweep", "UniformPool", Some("1000"), 10.0),
            m("uniform/churn/sweep", "UniformPool", Some("100000"), 30.0),
            m("uniform/churn/sweep", "slab", Some("1000"), 12.0),
            m("uniform/churn/sweep", "slab", Some("100000"), 20.0),
        ];
        let built = build(&rows, &["uniform".to_owned()], &BTreeMap::new());
        let svg = sweep(&built[0].sweeps[0]).expect("four points");
        assert!(svg.contains("UniformPool") && svg.contains("slab"));
        assert!(svg.contains("live values"));
        assert_eq!(short_count(1000.0), "1k");
        assert_eq!(short_count(2_500_000.0), "2.5M");
    }
}
