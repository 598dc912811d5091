//! The report of `verify`: one row per check (`check / expected / actual`), and its text.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Warn,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    pub status: Status,
    pub check: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: Vec<Row>,
}

impl Report {
    pub(super) fn push(
        &mut self,
        ok: bool,
        check: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) {
        self.rows.push(Row {
            status: if ok { Status::Pass } else { Status::Fail },
            check: check.into(),
            expected: expected.into(),
            actual: actual.into(),
        });
    }

    pub fn failures(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == Status::Fail)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == Status::Warn)
            .count()
    }

    /// The table: one row per check, ✓ / ✗ / ! first, then a summary line.
    pub fn table(&self) -> String {
        // Each column as wide as its longest cell, or its header ("CHECK", "EXPECTED").
        let width = |header: &str, cell: fn(&Row) -> &str| {
            self.rows
                .iter()
                .map(|r| cell(r).chars().count())
                .fold(header.len(), usize::max)
        };
        let w_check = width("CHECK", |r| &r.check);
        let w_exp = width("EXPECTED", |r| &r.expected);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "  {:<w_check$}  {:<w_exp$}  ACTUAL",
            "CHECK", "EXPECTED"
        );
        for r in &self.rows {
            let mark = match r.status {
                Status::Pass => '✓',
                Status::Fail => '✗',
                Status::Warn => '!',
            };
            let _ = writeln!(
                out,
                "{mark} {:<w_check$}  {:<w_exp$}  {}",
                r.check, r.expected, r.actual
            );
        }
        let _ = writeln!(
            out,
            "\n{} checks: {} passed, {} failed, {} warnings",
            self.rows.len(),
            self.rows
                .iter()
                .filter(|r| r.status == Status::Pass)
                .count(),
            self.failures(),
            self.warnings()
        );
        out
    }
}
