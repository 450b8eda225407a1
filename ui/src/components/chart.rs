//! A tiny stacked bar chart as inline SVG, rendered on the server (no JS library).

use maud::{Markup, html};

/// One bar: a label and its succeeded / failed / other counts.
#[derive(Debug, Clone, Default)]
pub struct Bar {
    pub label: String,
    pub ok: u32,
    pub failed: u32,
    pub other: u32,
}

/// Stacked bars, scaled to the tallest one; each bar has a `<title>` tooltip.
pub fn stacked_bars(bars: &[Bar], aria_label: &str) -> Markup {
    const H: f64 = 80.0;
    const BW: f64 = 10.0;
    const GAP: f64 = 2.0;
    let max = bars
        .iter()
        .map(|b| b.ok + b.failed + b.other)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let width = bars.len() as f64 * (BW + GAP);
    html! {
        svg.chart viewBox={ "0 0 " (width) " " (H) } preserveAspectRatio="none" role="img" aria-label=(aria_label) {
            @for (i, b) in bars.iter().enumerate() {
                @let x = i as f64 * (BW + GAP);
                @let ok_h = f64::from(b.ok) / max * H;
                @let bad_h = f64::from(b.failed) / max * H;
                @let other_h = f64::from(b.other) / max * H;
                g {
                    title { (b.label) ": " (b.ok) " succeeded, " (b.failed) " failed, " (b.other) " other" }
                    rect.bar-ok x=(x) y=(H - ok_h) width=(BW) height=(ok_h) {}
                    rect.bar-bad x=(x) y=(H - ok_h - bad_h) width=(BW) height=(bad_h) {}
                    rect.bar-other x=(x) y=(H - ok_h - bad_h - other_h) width=(BW) height=(other_h) {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallest_bar_fills_the_height() {
        let bars = vec![
            Bar {
                label: "a".into(),
                ok: 2,
                failed: 2,
                other: 0,
            },
            Bar {
                label: "b".into(),
                ok: 1,
                failed: 0,
                other: 0,
            },
        ];
        let svg = stacked_bars(&bars, "jobs").into_string();
        assert!(svg.contains(r#"y="40" width="10" height="40""#), "{svg}");
        assert!(svg.contains("a: 2 succeeded, 2 failed, 0 other"));
    }
}
