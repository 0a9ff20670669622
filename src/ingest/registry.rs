//! Every file importer in one table: its source, what it accepts, whether
//! the Data sources upload offers it, and the function that imports one
//! file and says what it did. The CLI (`finops ingest KIND`, `finops
//! catalog import`), the upload form, the audit log and the metrics all
//! dispatch from here; a new importer is one entry (and its module).

use super::{activity, calendar, catalog, commitments, scenario, utilisation};
use super::{import_billing, BillingFormat, ImportError, Input, Progress};
use crate::db::DbConnection;
use crate::runs::Source;

/// What an import did: lines for people (the CLI and the upload page show
/// the same ones) and the summary as JSON (`--json`).
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub lines: Vec<String>,
    pub json: serde_json::Value,
}

/// Imports one file; `progress` follows a long one.
pub type ImportFn =
    fn(&mut DbConnection, &Input, &mut dyn FnMut(Progress)) -> Result<Imported, ImportError>;

pub struct Importer {
    pub source: Source,
    /// What it reads, for the upload form and help texts.
    pub accepts: &'static str,
    /// Offered on the Data sources page (analysts upload it).
    pub upload: bool,
    pub import: ImportFn,
}

/// The importers, in the order the upload form lists them.
pub const IMPORTERS: [Importer; 8] = [
    Importer {
        source: Source::Focus,
        accepts: "FOCUS billing export (CSV, .csv.gz, Parquet)",
        upload: true,
        import: focus,
    },
    Importer {
        source: Source::Cur,
        accepts: "AWS Cost and Usage Report (CUR 2.0 or legacy)",
        upload: true,
        import: cur,
    },
    Importer {
        source: Source::Utilisation,
        accepts: "Utilisation per instance or fleet",
        upload: true,
        import: utilisation_file,
    },
    Importer {
        source: Source::Activity,
        accepts: "Player activity per day × platform × region",
        upload: true,
        import: activity_file,
    },
    Importer {
        source: Source::Calendar,
        accepts: "Marketing calendar (TOML)",
        upload: false,
        import: calendar_file,
    },
    Importer {
        source: Source::Scenario,
        accepts: "Capacity scenario (TOML)",
        upload: false,
        import: scenario_file,
    },
    Importer {
        source: Source::Commitments,
        accepts: "Commitments held (CSV)",
        upload: false,
        import: commitments_file,
    },
    Importer {
        source: Source::Catalog,
        accepts: "Instance price catalog (CSV)",
        upload: false,
        import: catalog_file,
    },
];

/// The importer of `source`, if files of it can be imported.
pub fn importer(source: Source) -> Option<&'static Importer> {
    IMPORTERS.iter().find(|i| i.source == source)
}

/// The importer the upload form names (`focus`, `cur`, …), if it offers it.
pub fn upload_importer(kind: &str) -> Option<&'static Importer> {
    IMPORTERS
        .iter()
        .find(|i| i.upload && i.source.as_str() == kind)
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn billing(
    conn: &mut DbConnection,
    format: BillingFormat,
    input: &Input,
    progress: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let s = import_billing(conn, format, input, progress)?;
    let rate = if s.seconds > 0.0 {
        s.rows_read as f64 / s.seconds
    } else {
        0.0
    };
    let periods: Vec<String> = s
        .scopes
        .iter()
        .map(|sc| {
            format!(
                "{} {} {}",
                sc.provider, sc.billing_account, sc.billing_period
            )
        })
        .collect();
    let mut lines = vec![format!(
        "{} rows read in {:.1} s ({:.0} rows/s) → {} resource-day rows, {} report rows; billing period(s): {}; {} earlier rows replaced.",
        s.rows_read,
        s.seconds,
        rate,
        s.resource_rows,
        s.cost_rows,
        periods.join(", "),
        s.replaced_rows
    )];
    for t in &s.totals {
        let share = t
            .unallocated_billed
            .percent_of(t.billed)
            .map(|p| format!("{p:.1}%"))
            .unwrap_or_else(|| "–".to_string());
        lines.push(format!(
            "{}: billed {}, effective {}, unallocated {} ({share}).",
            t.currency,
            t.billed.to_decimal(2),
            t.effective.to_decimal(2),
            t.unallocated_billed.to_decimal(2)
        ));
    }
    Ok(Imported {
        lines,
        json: json(&s),
    })
}

fn focus(
    conn: &mut DbConnection,
    input: &Input,
    progress: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    billing(conn, BillingFormat::Focus, input, progress)
}

fn cur(
    conn: &mut DbConnection,
    input: &Input,
    progress: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    billing(conn, BillingFormat::Cur, input, progress)
}

fn utilisation_file(
    conn: &mut DbConnection,
    input: &Input,
    _: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let s = utilisation::import(conn, input)?;
    Ok(Imported {
        lines: vec![format!(
            "{} rows for {} resources, {} to {} ({}); {} earlier rows replaced.",
            s.rows, s.resources, s.first, s.last, s.granularity, s.replaced_rows
        )],
        json: json(&s),
    })
}

fn activity_file(
    conn: &mut DbConnection,
    input: &Input,
    _: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let s = activity::import(conn, input)?;
    Ok(Imported {
        lines: vec![format!(
            "{} rows, {} to {}; {} earlier rows replaced; shared costs re-split.",
            s.rows, s.first_day, s.last_day, s.replaced_rows
        )],
        json: json(&s),
    })
}

fn calendar_file(
    conn: &mut DbConnection,
    input: &Input,
    _: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let s = calendar::import(conn, input)?;
    Ok(Imported {
        lines: vec![format!(
            "{} events (replacing {} from the same file).",
            s.events, s.replaced
        )],
        json: json(&s),
    })
}

fn scenario_file(
    conn: &mut DbConnection,
    input: &Input,
    _: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let s = scenario::import(conn, input)?;
    Ok(Imported {
        lines: vec![format!(
            "scenario '{}' with {} change(s){}.",
            s.name,
            s.changes,
            if s.replaced > 0 {
                ", replacing the stored one"
            } else {
                ""
            }
        )],
        json: json(&s),
    })
}

fn commitments_file(
    conn: &mut DbConnection,
    input: &Input,
    _: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let s = commitments::import(conn, input)?;
    Ok(Imported {
        lines: vec![format!(
            "{} commitment(s), replacing {} stored.",
            s.commitments, s.replaced
        )],
        json: json(&s),
    })
}

fn catalog_file(
    conn: &mut DbConnection,
    input: &Input,
    _: &mut dyn FnMut(Progress),
) -> Result<Imported, ImportError> {
    let s = catalog::import(conn, input)?;
    Ok(Imported {
        lines: vec![format!(
            "{} types, {} prices; it replaces the previous catalog.",
            s.types, s.prices
        )],
        json: json(&s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_importer_is_listed_once_under_its_source() {
        for (i, a) in IMPORTERS.iter().enumerate() {
            assert!(
                IMPORTERS[i + 1..].iter().all(|b| b.source != a.source),
                "{:?}",
                a.source
            );
            assert_eq!(importer(a.source).map(|i| i.source), Some(a.source));
        }
        assert!(upload_importer("focus").is_some());
        assert!(
            upload_importer("calendar").is_none(),
            "not offered for upload"
        );
        assert!(upload_importer("bogus").is_none());
    }
}
