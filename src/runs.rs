//! Runs: every write of data — an import, a pull, a calendar, rule or
//! scenario change, the demo, AWS's advice — is recorded as a run in the
//! same transaction as the write: its row in `ingest_runs`, its audit entry
//! and its metrics. Caches key on the latest run and the audit log reads
//! it, so a write without a run would leave stale pages and no trace:
//! [`record`] is the one way a run is written.

use crate::db::ingest_runs::{self, NewIngestRun};
use crate::db::{DbConnection, DbError};
pub use crate::model::Status;

/// Where a run's data came from: each file importer, pull and edit. The
/// text is what `ingest_runs.source` and the metrics say.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Focus,
    Cur,
    Utilisation,
    Activity,
    Calendar,
    Scenario,
    Commitments,
    Catalog,
    Rules,
    CostExplorer,
    CloudWatch,
    AwsAdvice,
    Budgets,
    Anomalies,
    AlertRules,
    Demo,
}

impl Source {
    pub const ALL: [Source; 16] = [
        Source::Focus,
        Source::Cur,
        Source::Utilisation,
        Source::Activity,
        Source::Calendar,
        Source::Scenario,
        Source::Commitments,
        Source::Catalog,
        Source::Rules,
        Source::CostExplorer,
        Source::CloudWatch,
        Source::AwsAdvice,
        Source::Budgets,
        Source::Anomalies,
        Source::AlertRules,
        Source::Demo,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Focus => "focus",
            Source::Cur => "cur",
            Source::Utilisation => "utilisation",
            Source::Activity => "activity",
            Source::Calendar => "calendar",
            Source::Scenario => "scenario",
            Source::Commitments => "commitments",
            Source::Catalog => "catalog",
            Source::Rules => "rules",
            Source::CostExplorer => "cost-explorer",
            Source::CloudWatch => "cloudwatch",
            Source::AwsAdvice => "aws-advice",
            Source::Budgets => "budgets",
            Source::Anomalies => "anomalies",
            Source::AlertRules => "alert-rules",
            Source::Demo => "demo",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The audit log's action for a run of this source.
    pub fn audit_action(self) -> &'static str {
        match self {
            Source::CostExplorer | Source::CloudWatch | Source::AwsAdvice => "pull",
            Source::Calendar => "calendar.change",
            Source::Rules => "rules.change",
            Source::Scenario => "scenario.change",
            Source::Budgets => "budget.change",
            Source::Anomalies => "anomaly.change",
            Source::AlertRules => "alert.change",
            Source::Catalog => "catalog.import",
            Source::Commitments => "commitments.import",
            Source::Demo => "demo.load",
            Source::Focus | Source::Cur | Source::Utilisation | Source::Activity => "import",
        }
    }
}

/// Records a change that is not a file import (an edit on a page, a rules
/// re-apply, AWS's advice): `what` names what changed, `rows` how many
/// rows it wrote, `message` says what happened. Returns the run's id.
pub fn record_change(
    conn: &mut DbConnection,
    source: Source,
    what: &str,
    rows: usize,
    started_at: chrono::NaiveDateTime,
    message: String,
) -> Result<i64, DbError> {
    let run = NewIngestRun::succeeded(source.as_str(), what, "", "", rows, started_at, message);
    record(conn, &run)
}

/// Records a finished run, its audit entry (who ran it) and its metrics,
/// in the caller's transaction; returns its id.
pub fn record(conn: &mut DbConnection, run: &NewIngestRun) -> Result<i64, DbError> {
    let id = ingest_runs::insert(conn, run)?;
    let target = if run.file_name.is_empty() {
        run.source.clone()
    } else {
        format!("{} {}", run.source, run.file_name)
    };
    let first_line = run.message.lines().next().unwrap_or("");
    let detail = if run.billing_period.is_empty() {
        format!("run {id}: {first_line}")
    } else {
        format!("run {id}, {}: {first_line}", run.billing_period)
    };
    let status = Status::of(&run.status);
    let action = Source::parse(&run.source).map_or("import", Source::audit_action);
    crate::audit::record(
        conn,
        action,
        &target,
        match status {
            Status::Ok => crate::audit::OK,
            Status::Failed => crate::audit::FAILED,
        },
        &detail,
    )?;
    crate::metrics::import(&run.source, status.as_str(), run.rows_kept);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_back_as_written() {
        for s in Source::ALL {
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
        assert_eq!(Source::parse("floppy"), None);
        assert_eq!(Source::CostExplorer.audit_action(), "pull");
        assert_eq!(Source::Focus.audit_action(), "import");
        assert_eq!(Status::of(Status::Ok.as_str()), Status::Ok);
    }
}
