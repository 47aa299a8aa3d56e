//! Charts drawn on the server: deliveries per hour, succeeded against failed, as inline SVG that needs
//! no script, scales to the width it is given (a phone's too) and takes its text colour from the page, so
//! it reads in light and dark themes alike. Each hour's bar carries its counts (`data-*`, and a `<title>`
//! that browsers show on hover), and the figure its totals.

use std::fmt::Write as _;

use super::i18n::Text;
use crate::domain::Timestamp;
use crate::store::HourOfAttempts;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 190.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;
const SUCCEEDED: &str = "#16a34a";
const FAILED: &str = "#dc2626";
const HOUR_MS: i64 = 3_600_000;

/// One chart, ready for a page.
pub struct Chart {
    pub id: &'static str,
    pub caption: String,
    pub succeeded: u64,
    pub failed: u64,
    /// The SVG markup (every text in it escaped).
    pub svg: String,
}

/// The start of the hour `at` falls in.
pub fn hour_of(at: Timestamp) -> Timestamp {
    Timestamp::from_millis(at.as_millis().div_euclid(HOUR_MS) * HOUR_MS)
}

/// When the first of `hours` hours up to and including the one of `now` began.
pub fn window_start(now: Timestamp, hours: u32) -> Timestamp {
    Timestamp::from_millis(hour_of(now).as_millis() - i64::from(hours - 1) * HOUR_MS)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The smallest of 1, 2, 5, 10, 20, 50, … that is at least `value`.
fn nice_ceiling(value: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= value {
                return step * factor;
            }
        }
        step *= 10;
    }
}

/// Deliveries per hour for the `hours` hours up to `now`, from the hours that had attempts.
pub fn per_hour(
    t: Text,
    id: &'static str,
    caption: String,
    found: &[HourOfAttempts],
    now: Timestamp,
    hours: u32,
) -> Chart {
    let start = window_start(now, hours);
    let shown: Vec<&HourOfAttempts> = found.iter().filter(|h| h.hour >= start).collect();
    let (succeeded, failed) = shown.iter().fold((0, 0), |(s, f), h| (s + h.succeeded, f + h.failed));
    let top = nice_ceiling(shown.iter().map(|h| h.succeeded + h.failed).max().unwrap_or(0).max(1));
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let slot = plot_w / f64::from(hours);
    let bar = (slot * 0.8).max(1.0);
    let y = |count: u64| TOP + plot_h - plot_h * count as f64 / top as f64;
    let mut svg = String::new();
    let label =
        t.get("chart_label").replace("{succeeded}", &succeeded.to_string()).replace("{failed}", &failed.to_string());
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" font-size="11" font-family="system-ui, sans-serif">"#,
        escape(&format!("{caption}: {label}"))
    );
    for count in [0, top / 2, top] {
        let at = y(count);
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{}" y1="{at:.1}" y2="{at:.1}" stroke="currentColor" stroke-opacity=".18"/><text x="{}" y="{:.1}" text-anchor="end" fill="currentColor" fill-opacity=".7">{count}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            at + 4.0
        );
    }
    // Time labels: every six hours over a day, each midnight (UTC) over a week.
    let every = if hours <= 48 { 6 } else { 24 };
    for index in 0..hours {
        let hour = Timestamp::from_millis(start.as_millis() + i64::from(index) * HOUR_MS);
        let hour_of_day = hour.as_millis().div_euclid(HOUR_MS).rem_euclid(24);
        if hour_of_day % every != 0 {
            continue;
        }
        let text = hour.to_rfc3339();
        let text = if every == 24 { &text[5..10] } else { &text[11..16] };
        let x = LEFT + slot * f64::from(index);
        let _ =
            write!(svg, r#"<text x="{x:.1}" y="{}" fill="currentColor" fill-opacity=".7">{text}</text>"#, HEIGHT - 6.0);
    }
    for hour in &shown {
        let index = (hour.hour.as_millis() - start.as_millis()) / HOUR_MS;
        let x = LEFT + slot * index as f64 + (slot - bar) / 2.0;
        let (ok_top, all_top) = (y(hour.succeeded), y(hour.succeeded + hour.failed));
        let tip = t
            .get("chart_hour")
            .replace("{hour}", &hour.hour.to_rfc3339()[..16].replace('T', " "))
            .replace("{succeeded}", &hour.succeeded.to_string())
            .replace("{failed}", &hour.failed.to_string());
        let _ = write!(
            svg,
            r#"<g class="hour" data-hour="{}" data-succeeded="{}" data-failed="{}"><title>{}</title><rect x="{x:.1}" y="{ok_top:.1}" width="{bar:.1}" height="{:.1}" fill="{SUCCEEDED}"/><rect x="{x:.1}" y="{all_top:.1}" width="{bar:.1}" height="{:.1}" fill="{FAILED}"/></g>"#,
            hour.hour.to_rfc3339(),
            hour.succeeded,
            hour.failed,
            escape(&tip),
            TOP + plot_h - ok_top,
            ok_top - all_top,
        );
    }
    svg.push_str("</svg>");
    Chart { id, caption, succeeded, failed, svg }
}

/// The two charts of a page: the last day and the last week, from one week's counts.
pub fn day_and_week(t: Text, found: &[HourOfAttempts], now: Timestamp) -> Vec<Chart> {
    vec![
        per_hour(t, "chart-24h", t.get("chart_24h").to_owned(), found, now, 24),
        per_hour(t, "chart-7d", t.get("chart_7d").to_owned(), found, now, 7 * 24),
    ]
}

/// When the week the charts show began.
pub fn week_start(now: Timestamp) -> Timestamp {
    window_start(now, 7 * 24)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::i18n::Lang;

    fn at(hours_ago: i64, now: Timestamp) -> Timestamp {
        Timestamp::from_millis(hour_of(now).as_millis() - hours_ago * HOUR_MS)
    }

    #[test]
    fn each_hour_is_a_bar_with_its_counts_and_the_figure_has_the_totals() {
        let now = Timestamp::from_millis(1_764_590_400_000 + 1_800_000);
        let found = [
            HourOfAttempts { hour: at(30, now), succeeded: 9, failed: 0 },
            HourOfAttempts { hour: at(2, now), succeeded: 3, failed: 1 },
            HourOfAttempts { hour: at(0, now), succeeded: 0, failed: 2 },
        ];
        let [day, week] = <[Chart; 2]>::try_from(day_and_week(Lang::En.text(), &found, now)).ok().unwrap();
        assert_eq!((day.succeeded, day.failed), (3, 3), "the day leaves out the hour 30 hours ago");
        assert_eq!((week.succeeded, week.failed), (12, 3));
        assert_eq!(day.svg.matches("<g class=\"hour\"").count(), 2);
        assert!(day.svg.contains(r#"data-succeeded="3" data-failed="1""#), "{}", day.svg);
        assert!(week.svg.starts_with("<svg") && week.svg.ends_with("</svg>"));
    }

    #[test]
    fn scales_are_round_numbers() {
        assert_eq!([1, 2, 3, 7, 11, 99, 101].map(nice_ceiling), [1, 2, 5, 10, 20, 100, 200]);
        let now = Timestamp::from_millis(1_764_590_400_000);
        assert_eq!(week_start(now).as_millis(), now.as_millis() - 167 * HOUR_MS);
    }
}
