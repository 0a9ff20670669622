//! Which rows are bad, and why, for the error a refused file gets.

use super::*;

/// Finds the first bad rows and says what is wrong with each.
pub(super) fn explain_bad_rows(
    file: &str,
    table: &Table,
    fields: &Fields,
    count: u64,
) -> ImportError {
    match find_bad_rows(file, table, fields) {
        Ok(problems) if !problems.is_empty() => ImportError::BadRows {
            file: file.to_string(),
            problems,
            count,
        },
        Ok(_) => ImportError::Format {
            file: file.to_string(),
            message: format!("{count} row(s) have values that cannot be read"),
        },
        Err(e) => e,
    }
}

pub(super) fn find_bad_rows(
    file: &str,
    table: &Table,
    fields: &Fields,
) -> Result<Vec<RowProblem>, ImportError> {
    let (reversed, crosses) = period_problems();
    let mut selected = vec![
        col(ROW),
        reversed.fill_null(lit(false)).alias("__reversed"),
        crosses.fill_null(lit(false)).alias("__crosses"),
        col("__cs"),
        col("__ce"),
        col("__bs"),
        col("__be"),
    ];
    for (i, check) in fields.checks.iter().enumerate() {
        selected.push(check.value.clone().alias(format!("__chk{i}")));
    }
    let frame = normalised(table.frame.clone(), fields);
    let (reversed, crosses) = period_problems();
    let df = frame
        .filter(
            col("__bad_value")
                .or(reversed.fill_null(lit(false)))
                .or(crosses.fill_null(lit(false))),
        )
        .select(selected)
        .limit(MAX_REPORTED_PROBLEMS as IdxSize)
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| polars_error(file, e))?
        .unwrap_single();
    let rows = column_u64(file, &df, ROW)?;
    let reversed = df
        .column("__reversed")
        .and_then(|c| c.bool().cloned())
        .map_err(|e| polars_error(file, e))?;
    let crosses = df
        .column("__crosses")
        .and_then(|c| c.bool().cloned())
        .map_err(|e| polars_error(file, e))?;
    let mut values = Vec::with_capacity(fields.checks.len());
    for i in 0..fields.checks.len() {
        values.push(texts(file, &df, &format!("__chk{i}"))?);
    }
    let [start_col, end_col, billing_col] = &fields.period_columns;
    let period_text = |name: &str, i: usize| -> Option<String> {
        fields
            .checks
            .iter()
            .position(|c| c.column == name)
            .and_then(|k| values[k][i].clone())
    };
    let mut problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        // Line 1 is the header; data row 0 is on line 2 (quoted newlines
        // inside a row would shift this, which billing exports avoid).
        let line = row + 2;
        let before = problems.len();
        for (k, check) in fields.checks.iter().enumerate() {
            let value = values[k][i].as_deref();
            if let Some(reason) = check.problem(value) {
                problems.push(RowProblem {
                    line,
                    column: check.column.clone(),
                    value: value.unwrap_or("").to_string(),
                    reason,
                });
            }
        }
        if problems.len() == before && reversed.get(i) == Some(true) {
            problems.push(RowProblem {
                line,
                column: end_col.clone(),
                value: period_text(end_col, i).unwrap_or_default(),
                reason: format!(
                    "is before {start_col} {}",
                    period_text(start_col, i).unwrap_or_default()
                ),
            });
        } else if problems.len() == before && crosses.get(i) == Some(true) {
            problems.push(RowProblem {
                line,
                column: start_col.clone(),
                value: format!(
                    "{} – {}",
                    period_text(start_col, i).unwrap_or_default(),
                    period_text(end_col, i).unwrap_or_default()
                ),
                reason: format!(
                    "the charge period crosses the boundary of its billing period ({billing_col} {}); split the charge at the boundary",
                    period_text(billing_col, i).unwrap_or_default()
                ),
            });
        } else if problems.len() == before {
            problems.push(RowProblem {
                line,
                column: String::new(),
                value: String::new(),
                reason: "has a value that cannot be read".to_string(),
            });
        }
        if problems.len() >= MAX_REPORTED_PROBLEMS {
            problems.truncate(MAX_REPORTED_PROBLEMS);
            break;
        }
    }
    Ok(problems)
}
