//! The benchmark's figures: each one beside the baseline measured in the same run,
//! as a ratio, with the goal it is held to (issue 12). Printed as a table and
//! written as JSON.

use std::fmt::Write as _;

use serde::Serialize;

/// Which way a ratio should go to meet its goal.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// The ratio must be at most this.
    AtMost(f64),
    /// The ratio must be at least this.
    AtLeast(f64),
}

impl Goal {
    fn met(self, ratio: f64) -> bool {
        match self {
            Goal::AtMost(bound) => ratio <= bound,
            Goal::AtLeast(bound) => ratio >= bound,
        }
    }

    fn describe(self) -> String {
        match self {
            Goal::AtMost(bound) => format!("<= {bound}x"),
            Goal::AtLeast(bound) => format!(">= {bound}x"),
        }
    }
}

/// One measured figure and its baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// What was measured, e.g. "GET /v1/me, CPU per request, 16 connections".
    pub name: String,
    /// The unit of `value` and `baseline`, e.g. "ms", "req/s", "MiB".
    pub unit: &'static str,
    /// QHub's figure.
    pub value: f64,
    /// What the baseline is, e.g. "native axum + jsonwebtoken + sqlx".
    pub baseline_name: String,
    /// The baseline's figure, measured in the same run.
    pub baseline: f64,
    /// `value / baseline`.
    pub ratio: f64,
    /// The goal for `ratio`, if it has one.
    pub goal: Option<Goal>,
    /// Whether `ratio` meets `goal`.
    pub met: Option<bool>,
}

impl Figure {
    /// A figure against its baseline, with an optional goal for the ratio.
    pub fn new(
        name: impl Into<String>,
        unit: &'static str,
        value: f64,
        baseline_name: impl Into<String>,
        baseline: f64,
        goal: Option<Goal>,
    ) -> Figure {
        let ratio = value / baseline;
        Figure {
            name: name.into(),
            unit,
            value,
            baseline_name: baseline_name.into(),
            baseline,
            ratio,
            goal,
            met: goal.map(|goal| goal.met(ratio)),
        }
    }
}

/// A section of the report: a heading and its figures.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub figures: Vec<Figure>,
    /// Remarks printed under the section's table.
    pub notes: Vec<String>,
}

/// The whole report, as written to `target/bench/bench.json`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// When the run started, RFC 3339 (UTC).
    pub date: String,
    /// The machine: cores, CPU model, kernel.
    pub machine: String,
    pub sections: Vec<Section>,
}

fn number(value: f64, unit: &str) -> String {
    let digits = if value.abs() >= 100.0 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

impl Report {
    /// The report as a text table (Markdown, so the README can show it as is).
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Measured {} on {}.", self.date, self.machine);
        for section in &self.sections {
            let _ = writeln!(out, "\n### {}\n", section.title);
            let _ = writeln!(
                out,
                "| figure | QHub | baseline | ratio | goal |\n|---|---:|---|---:|---|"
            );
            for figure in &section.figures {
                let goal = match (figure.goal, figure.met) {
                    (Some(goal), Some(true)) => format!("{} met", goal.describe()),
                    (Some(goal), _) => format!("{} **not met**", goal.describe()),
                    (None, _) => String::new(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {}: {} | {:.2}x | {} |",
                    figure.name,
                    number(figure.value, figure.unit),
                    figure.baseline_name,
                    number(figure.baseline, figure.unit),
                    figure.ratio,
                    goal
                );
            }
            for note in &section.notes {
                let _ = writeln!(out, "\n{note}");
            }
        }
        out
    }
}

/// "2 cores, MODEL, Linux RELEASE", read from /proc.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| release.trim().to_owned())
        .unwrap_or_default();
    format!("{} cores, {model}, Linux {kernel}", crate::procfs::cores())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goal_is_judged_on_the_ratio_in_its_direction() {
        let slow = Figure::new("x", "ms", 3.0, "native", 2.0, Some(Goal::AtMost(1.2)));
        assert_eq!(slow.ratio, 1.5);
        assert_eq!(slow.met, Some(false));
        let kept = Figure::new(
            "y",
            "req/s",
            90.0,
            "unloaded",
            100.0,
            Some(Goal::AtLeast(0.5)),
        );
        assert_eq!(kept.met, Some(true));
        let plain = Figure::new("z", "MiB", 1.0, "b", 1.0, None);
        assert_eq!(plain.met, None);
    }

    #[test]
    fn the_table_shows_every_figure_with_its_ratio_and_verdict() {
        let report = Report {
            date: "2026-11-30T00:00:00Z".into(),
            machine: "2 cores".into(),
            sections: vec![Section {
                title: "Argon2id".into(),
                figures: vec![Figure::new(
                    "hash",
                    "ms",
                    36.0,
                    "native",
                    30.0,
                    Some(Goal::AtMost(1.2)),
                )],
                notes: vec![],
            }],
        };
        let table = report.table();
        assert!(
            table.contains("| hash | 36.0 ms | native: 30.0 ms | 1.20x | <= 1.2x met |"),
            "{table}"
        );
    }
}
