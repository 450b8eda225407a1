//! A small stacked bar chart as inline SVG, rendered on the server (no JS library):
//! a y axis with round counts and grid lines, x labels under every few bars, and each
//! bar's values on hover (an SVG `<title>`, which browsers show as a tooltip, over a
//! column as tall as the plot so a short bar is easy to point at).

use maud::{Markup, html};

/// One bar: its labels and its succeeded / failed / other counts.
#[derive(Debug, Clone, Default)]
pub struct Bar {
    /// The full label, in the tooltip (e.g. `2026-12-01 14:00 UTC`).
    pub label: String,
    /// The short label under the x axis (e.g. `14:00`).
    pub tick: String,
    pub ok: u32,
    pub failed: u32,
    pub other: u32,
}

const W: f64 = 360.0;
const H: f64 = 150.0;
/// Room for the y labels on the left and the x labels below.
const LEFT: f64 = 26.0;
const RIGHT: f64 = 4.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 18.0;

/// The y axis: a round step (1, 2, 5, 10, 20, ...) giving at most four intervals, and
/// the top of the axis, a multiple of it at or above `max`.
fn y_scale(max: u32) -> (u32, u32) {
    let max = max.max(1);
    let mut step = 1u32;
    for m in [2u32, 5, 10].iter().cycle() {
        if max.div_ceil(step) <= 4 {
            break;
        }
        step = match m {
            2 => step * 2,
            5 => step / 2 * 5,
            _ => step * 2,
        };
    }
    (step, max.div_ceil(step) * step)
}

/// Stacked bars with axes; `every` puts an x label under every that-many bars.
pub fn stacked_bars(bars: &[Bar], aria_label: &str) -> Markup {
    let every = bars.len().div_ceil(6).max(1);
    let max = bars
        .iter()
        .map(|b| b.ok + b.failed + b.other)
        .max()
        .unwrap_or(0);
    let (step, top) = y_scale(max);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / bars.len().max(1) as f64;
    let bw = (slot * 0.75).max(1.0);
    let y = |n: f64| TOP + plot_h - n / f64::from(top) * plot_h;
    let ticks: Vec<u32> = (0..=top / step).map(|i| i * step).collect();
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(aria_label) {
            g.y-axis {
                @for t in &ticks {
                    line.grid x1=(LEFT) x2=(W - RIGHT) y1=(y(f64::from(*t))) y2=(y(f64::from(*t))) {}
                    text x=(LEFT - 4.0) y=(y(f64::from(*t)) + 3.0) text-anchor="end" { (t) }
                }
            }
            line.axis x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(TOP + plot_h) {}
            line.axis x1=(LEFT) x2=(W - RIGHT) y1=(TOP + plot_h) y2=(TOP + plot_h) {}
            @for (i, b) in bars.iter().enumerate() {
                @let x = LEFT + i as f64 * slot + (slot - bw) / 2.0;
                @let ok_h = f64::from(b.ok) / f64::from(top) * plot_h;
                @let bad_h = f64::from(b.failed) / f64::from(top) * plot_h;
                @let other_h = f64::from(b.other) / f64::from(top) * plot_h;
                @let base = TOP + plot_h;
                g.col {
                    title { (b.label) ": " (b.ok) " succeeded, " (b.failed) " failed, " (b.other) " other" }
                    rect.hit x=(LEFT + i as f64 * slot) y=(TOP) width=(slot) height=(plot_h) {}
                    rect.bar-ok x=(x) y=(base - ok_h) width=(bw) height=(ok_h) {}
                    rect.bar-bad x=(x) y=(base - ok_h - bad_h) width=(bw) height=(bad_h) {}
                    rect.bar-other x=(x) y=(base - ok_h - bad_h - other_h) width=(bw) height=(other_h) {}
                }
                @if i % every == 0 {
                    text.x-label x=(LEFT + i as f64 * slot + slot / 2.0) y=(H - 5.0) text-anchor="middle" { (b.tick) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(tick: &str, ok: u32, failed: u32) -> Bar {
        Bar {
            label: format!("2026-12-01 {tick} UTC"),
            tick: tick.into(),
            ok,
            failed,
            other: 0,
        }
    }

    #[test]
    fn the_axis_counts_in_round_steps() {
        assert_eq!(y_scale(0), (1, 1));
        assert_eq!(y_scale(3), (1, 3));
        assert_eq!(y_scale(7), (2, 8));
        assert_eq!(y_scale(9), (5, 10));
        assert_eq!(y_scale(37), (10, 40));
        assert_eq!(y_scale(130), (50, 150));
    }

    #[test]
    fn bars_have_axes_hour_labels_and_hover_values() {
        let bars: Vec<Bar> = (0..24)
            .map(|h| bar(&format!("{h:02}:00"), h % 3, 1))
            .collect();
        let svg = stacked_bars(&bars, "jobs").into_string();
        // y labels 0..=3 (tallest bar: 2 + 1), an x label every 4 hours.
        for t in ["0", "1", "2", "3"] {
            assert!(
                svg.contains(&format!(r#"text-anchor="end">{t}</text>"#)),
                "{svg}"
            );
        }
        assert!(
            svg.contains(r#"text-anchor="middle">04:00</text>"#),
            "{svg}"
        );
        assert!(
            !svg.contains(r#"text-anchor="middle">05:00</text>"#),
            "{svg}"
        );
        assert_eq!(svg.matches("x-label").count(), 6);
        assert!(
            svg.contains("<title>2026-12-01 05:00 UTC: 2 succeeded, 1 failed, 0 other</title>")
        );
        // The tallest bar fills the plot: 3 of 3 from the bottom (y = 8 + 124) to the top.
        assert!(svg.contains(r#"class="bar-bad" x="#), "{svg}");
        assert!(
            svg.contains(r#"y="8" width="#),
            "tallest bar reaches the top: {svg}"
        );
    }
}
