//! Budgets from a CSV file: a header, then one budget per line.
//!
//! ```text
//! period,amount,platform,region,service,tag,basis,currency,note
//! 2027-Q1,2700000,,,,effective,USD,top-down plan
//! 2027-01,410000,PC
//! ```
//! `period` and `amount` are required; the rest may be left out or empty
//! (`all`, effective cost, the configured currency). Every line is checked
//! before anything is stored; an error names the file, line and column.

use std::path::Path;

use super::{parse_amount, Basis, BudgetError, BudgetPeriod, BudgetSpec, Scope};

const COLUMNS: [&str; 9] = [
    "period", "amount", "platform", "region", "service", "tag", "basis", "currency", "note",
];

/// Reads every budget of `path`, or the first error.
pub fn read_file(path: &Path, default_currency: &str) -> Result<Vec<BudgetSpec>, BudgetError> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| BudgetError::File {
        file: file.clone(),
        message: e.to_string(),
    })?;
    parse(&text, &file, default_currency)
}

/// Parses CSV `bytes` named `file`.
pub fn parse(
    bytes: &[u8],
    file: &str,
    default_currency: &str,
) -> Result<Vec<BudgetSpec>, BudgetError> {
    let file_error = |message: String| BudgetError::File {
        file: file.to_string(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| file_error(format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    for h in &header {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(file_error(format!(
                "unknown column '{h}': expected {}",
                COLUMNS.join(", ")
            )));
        }
    }
    for required in ["period", "amount"] {
        if !header.iter().any(|h| h == required) {
            return Err(file_error(format!("the header has no '{required}' column")));
        }
    }
    let mut out = Vec::new();
    let mut seen: Vec<(usize, Vec<crate::db::budgets::BudgetKey>)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| BudgetError::Row {
            file: file.to_string(),
            line,
            column: "-".to_string(),
            message: format!("not a CSV line: {e}"),
        })?;
        if record.iter().all(|c| c.is_empty()) {
            continue;
        }
        if record.len() > header.len() {
            return Err(BudgetError::Row {
                file: file.to_string(),
                line,
                column: "-".to_string(),
                message: format!("{} cells for {} columns", record.len(), header.len()),
            });
        }
        let cell = |name: &str| -> &str {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|k| record.get(k))
                .unwrap_or("")
        };
        let row_error = |column: &str, message: String| BudgetError::Row {
            file: file.to_string(),
            line,
            column: column.to_string(),
            message,
        };
        let period = BudgetPeriod::parse(cell("period")).map_err(|e| row_error("period", e))?;
        let amount = parse_amount(cell("amount")).map_err(|e| row_error("amount", e))?;
        let scope = Scope::parse(cell("platform"), "", "")
            .map_err(|e| row_error("platform", e))
            .and_then(|p| {
                Scope::parse("", cell("region"), "")
                    .map_err(|e| row_error("region", e))
                    .map(|r| (p, r))
            })
            .and_then(|(p, r)| {
                Scope::parse("", "", cell("service"))
                    .map_err(|e| row_error("service", e))
                    .map(|s| Scope {
                        platform: p.platform,
                        region: r.region,
                        service: s.service,
                        tag: String::new(),
                    })
            })
            .and_then(|s| s.with_tag(cell("tag")).map_err(|e| row_error("tag", e)))?;
        let basis = Basis::parse(cell("basis")).map_err(|e| row_error("basis", e))?;
        let currency = match cell("currency") {
            "" => default_currency.to_string(),
            c if c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()) => {
                c.to_ascii_uppercase()
            }
            c => {
                return Err(row_error(
                    "currency",
                    format!("'{c}' is not a currency code such as USD"),
                ))
            }
        };
        let note = cell("note");
        if note.chars().count() > 500 || note.chars().any(char::is_control) {
            return Err(row_error(
                "note",
                "longer than 500 characters or holds control characters".to_string(),
            ));
        }
        let spec = BudgetSpec {
            period,
            amount,
            currency,
            scope,
            basis,
            note: note.to_string(),
        };
        // Two lines setting the same month and scope would make the
        // result depend on their order: refused.
        let keys: Vec<_> = spec.rows().iter().map(super::key_of).collect();
        if let Some((other, _)) = seen
            .iter()
            .find(|(_, ks)| ks.iter().any(|k| keys.contains(k)))
        {
            return Err(row_error(
                "period",
                format!("sets the same month and scope as line {other}"),
            ));
        }
        seen.push((line, keys));
        out.push(spec);
    }
    if out.is_empty() {
        return Err(file_error(
            "no budgets: the file has a header only".to_string(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Vec<BudgetSpec>, BudgetError> {
        parse(text.as_bytes(), "budgets.csv", "USD")
    }

    #[test]
    fn reads_months_quarters_and_scopes() {
        let specs = parse_text(
            "period,amount,platform,region,service,basis,currency,note\n\
             2027-Q1,2700000,,,,,,top-down\n\
             2027-01,410000,pc,,,billed,eur,\n\
             2027-02,5000,,us-east-1,Amazon Elastic Compute Cloud,,,\n",
        )
        .unwrap();
        assert_eq!(specs.len(), 3);
        assert!(specs[0].scope.is_total());
        assert_eq!(specs[0].rows().len(), 3);
        assert_eq!(specs[1].scope.platform, "PC");
        assert_eq!(specs[1].basis, Basis::Billed);
        assert_eq!(specs[1].currency, "EUR");
        assert_eq!(specs[2].scope.region, "us-east-1");
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let e = parse_text("period,amount,platform\n2027-01,100,PC\n2027-02,100,Dreamcast\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("budgets.csv: line 3, column platform:"),
            "{e}"
        );
        let e = parse_text("period,amount\n2027-13,100\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column period"), "{e}");
        let e = parse_text("period,amount\n2027-01,12.345\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column amount"), "{e}");
        let e = parse_text("period,amount,colour\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown column 'colour'"), "{e}");
        let e = parse_text("period\n2027-01\n").unwrap_err().to_string();
        assert!(e.contains("no 'amount' column"), "{e}");
        let e = parse_text("period,amount\n2027-Q1,100\n2027-02,50\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("line 2"), "{e}");
        let e = parse_text("period,amount\n").unwrap_err().to_string();
        assert!(e.contains("header only"), "{e}");
    }
}
