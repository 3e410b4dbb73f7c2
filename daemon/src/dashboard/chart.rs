//! Cases/s over time as an inline SVG line chart (no scripts: the pages
//! run none).

use maud::{html, Markup};
use std::time::{Duration, UNIX_EPOCH};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 22.0;

/// The chart of `(minute start in Unix seconds, cases/s)`.
pub fn throughput(minutes: &[(i64, f64)]) -> Markup {
    let (Some(first), Some(last)) = (minutes.first(), minutes.last()) else {
        return html! { p.muted { "No cases yet." } };
    };
    let rates = minutes;
    let peak = rates.iter().map(|r| r.1).fold(0.0, f64::max).max(1.0);
    let span = (last.0 - first.0).max(60) as f64;
    let x = |t: i64| LEFT + (t - first.0) as f64 / span * (WIDTH - LEFT - 8.0);
    let y = |rate: f64| (HEIGHT - BOTTOM) - rate / peak * (HEIGHT - BOTTOM - 10.0);
    let points: Vec<String> = rates
        .iter()
        .map(|&(t, r)| format!("{:.1},{:.1}", x(t), y(r)))
        .collect();
    html! {
        svg.chart role="img" aria-label="cases per second over time"
            viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) width=(WIDTH) height=(HEIGHT)
            xmlns="http://www.w3.org/2000/svg" {
            title { "cases/s per minute" }
            line x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH) y2=(HEIGHT - BOTTOM) stroke="#999" {}
            line x1=(LEFT) y1="0" x2=(LEFT) y2=(HEIGHT - BOTTOM) stroke="#999" {}
            text x=(LEFT - 4.0) y=(y(peak) + 4.0) text-anchor="end" font-size="11" { (format!("{peak:.0}")) }
            text x=(LEFT - 4.0) y=(HEIGHT - BOTTOM) text-anchor="end" font-size="11" { "0" }
            text x=(LEFT) y=(HEIGHT - 6.0) font-size="11" { (when(first.0)) }
            text x=(WIDTH) y=(HEIGHT - 6.0) text-anchor="end" font-size="11" { (when(last.0)) }
            @if points.len() == 1 {
                circle cx=(x(first.0)) cy=(y(rates[0].1)) r="3" fill="#2563eb" {}
            } @else {
                polyline points=(points.join(" ")) fill="none" stroke="#2563eb" stroke-width="1.5" {}
            }
        }
    }
}

/// A Unix time as `2026-11-21T14:30:10Z`.
pub fn when(unix: i64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
        .to_string()
}
