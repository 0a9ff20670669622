//! `finops budget set|import|list|remove`.

use crate::budget::{self, status, Basis, BudgetError, BudgetPeriod, BudgetSpec, Scope};
use crate::cli::{BudgetCommand, BudgetScopeArgs, CliError};
use crate::db::DbConnection;
use crate::report::export::text_cell;
use crate::report::period::Month;

impl From<BudgetError> for CliError {
    fn from(e: BudgetError) -> CliError {
        match e {
            BudgetError::Db(d) => d.into(),
            BudgetError::Report(r) => r.into(),
            other => CliError::BadInput(other.to_string()),
        }
    }
}

/// The currency most of the data is in, USD without data.
fn data_currency(conn: &mut DbConnection) -> Result<String, CliError> {
    let catalog = crate::report::catalog::Catalog::load(conn)?;
    let c = catalog.default_currency();
    Ok(if c.is_empty() { "USD".to_string() } else { c })
}

fn scope_of(args: &BudgetScopeArgs) -> Result<(BudgetPeriod, Scope, Basis), CliError> {
    let period = BudgetPeriod::parse(&args.period).map_err(CliError::BadInput)?;
    let scope = Scope::parse(&args.platform, &args.region, &args.service)
        .and_then(|s| s.with_tag(&args.tag))
        .map_err(CliError::BadInput)?;
    let basis = Basis::parse(&args.basis).map_err(CliError::BadInput)?;
    Ok((period, scope, basis))
}

fn currency_of(conn: &mut DbConnection, args: &BudgetScopeArgs) -> Result<String, CliError> {
    match &args.currency {
        Some(c) if c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()) => {
            Ok(c.to_ascii_uppercase())
        }
        Some(c) => Err(CliError::BadInput(format!(
            "--currency '{c}' is not a currency code such as USD"
        ))),
        None => data_currency(conn),
    }
}

pub fn run(conn: &mut DbConnection, command: &BudgetCommand) -> Result<(), CliError> {
    match command {
        BudgetCommand::Set {
            scope,
            amount,
            note,
        } => {
            let (period, s, basis) = scope_of(scope)?;
            let amount = budget::parse_amount(amount).map_err(CliError::BadInput)?;
            let currency = currency_of(conn, scope)?;
            let spec = BudgetSpec {
                period,
                amount,
                currency,
                scope: s,
                basis,
                note: note.clone(),
            };
            let n = budget::save(conn, std::slice::from_ref(&spec), "budget set (cli)")?;
            println!(
                "set {} {} budget of {} for {} ({} month{})",
                spec.scope.label(),
                spec.basis.as_str(),
                spec.amount.display(&spec.currency),
                spec.period,
                n,
                if n == 1 { "" } else { "s" }
            );
            Ok(())
        }
        BudgetCommand::Import { file } => {
            let currency = data_currency(conn)?;
            let specs = budget::import::read_file(file, &currency)?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let n = budget::save(conn, &specs, &name)?;
            println!(
                "{}: {} budget{} set ({} monthly row{})",
                file.display(),
                specs.len(),
                if specs.len() == 1 { "" } else { "s" },
                n,
                if n == 1 { "" } else { "s" }
            );
            Ok(())
        }
        BudgetCommand::Remove { scope } => {
            let (period, s, basis) = scope_of(scope)?;
            let currency = currency_of(conn, scope)?;
            let n = budget::remove(conn, &period, &s, basis, &currency, "budget remove (cli)")?;
            if n == 0 {
                return Err(CliError::BadInput(format!(
                    "no {} budget of {} for {period} in {currency}",
                    basis.as_str(),
                    s.label()
                )));
            }
            println!(
                "removed {n} monthly budget{}",
                if n == 1 { "" } else { "s" }
            );
            Ok(())
        }
        BudgetCommand::List { from, to, format } => list(conn, from, to, format),
    }
}

fn list(
    conn: &mut DbConnection,
    from: &Option<String>,
    to: &Option<String>,
    format: &str,
) -> Result<(), CliError> {
    let month = |v: &Option<String>, name: &str, default: Month| -> Result<Month, CliError> {
        match v {
            Some(t) => t
                .parse::<Month>()
                .map_err(|e| CliError::BadInput(format!("--{name}: {e}"))),
            None => Ok(default),
        }
    };
    if !["table", "csv", "json"].contains(&format) {
        return Err(CliError::BadInput(format!(
            "--format '{format}': expected table, csv or json"
        )));
    }
    let today = crate::clock::today();
    let (_, q_last) = budget::period::quarter_of(today);
    let first = month(from, "from", Month::of(today))?;
    let last = month(to, "to", Month::of(q_last))?;
    if last < first {
        return Err(CliError::BadInput(format!(
            "--to {last} is before --from {first}"
        )));
    }
    let currencies: Vec<String> = {
        let mut c: Vec<String> =
            crate::db::budgets::budgets_between(conn, &first.to_string(), &last.to_string())?
                .into_iter()
                .map(|b| b.currency)
                .collect();
        c.sort();
        c.dedup();
        c
    };
    let mut all = Vec::new();
    let mut m = first;
    while m <= last {
        for c in &currencies {
            all.extend(status::month_status(conn, m, c)?);
        }
        m = m.next();
    }
    match format {
        "json" => {
            let rows: Vec<serde_json::Value> = all.iter().map(json_row).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&rows)
                    .map_err(|e| CliError::Runtime(e.to_string()))?
            );
        }
        "csv" => {
            println!("month,scope,basis,currency,budget,actual,forecast_month_end,crosses_on,quarter,quarter_budget,quarter_forecast,note");
            for s in &all {
                let b = &s.budget;
                println!(
                    "{},{},{},{},{},{},{},{},{},{},{},{}",
                    b.month,
                    text_cell(&s.label),
                    b.basis,
                    b.currency,
                    b.amount().to_decimal(2),
                    s.actual.to_decimal(2),
                    s.forecast_month.to_decimal(2),
                    s.crosses_on.map(|d| d.to_string()).unwrap_or_default(),
                    s.quarter_label,
                    s.quarter_budget
                        .map(|q| q.to_decimal(2))
                        .unwrap_or_default(),
                    s.quarter_forecast.to_decimal(2),
                    text_cell(&b.note)
                );
            }
        }
        _ => {
            if all.is_empty() {
                println!("no budgets from {first} to {last}: set one with `finops budget set`");
                return Ok(());
            }
            println!(
                "{:<8} {:<34} {:<9} {:>16} {:>16} {:>8} {:>16} {:>8}  crosses on",
                "month", "scope", "basis", "budget", "actual", "used", "forecast", "fcst %",
            );
            for s in &all {
                let b = &s.budget;
                let pct = |p: Option<f64>| p.map(|v| format!("{v:.1} %")).unwrap_or_default();
                println!(
                    "{:<8} {:<34} {:<9} {:>16} {:>16} {:>8} {:>16} {:>8}  {}",
                    b.month,
                    s.label,
                    b.basis,
                    b.amount().display(&b.currency),
                    s.actual.display(&b.currency),
                    pct(s.used()),
                    s.forecast_month.display(&b.currency),
                    pct(s.forecast_used()),
                    match (s.crosses_on, s.crossed) {
                        (Some(d), true) => format!("{d} (passed)"),
                        (Some(d), false) => format!("{d} (forecast)"),
                        (None, _) => "—".to_string(),
                    }
                );
            }
        }
    }
    Ok(())
}

fn json_row(s: &status::BudgetStatus) -> serde_json::Value {
    let b = &s.budget;
    serde_json::json!({
        "month": b.month,
        "platform": b.platform,
        "region": b.region,
        "service": b.service,
        "tag": b.tag,
        "basis": b.basis,
        "currency": b.currency,
        "budget": b.amount().to_decimal(2),
        "actual": s.actual.to_decimal(2),
        "data_through": s.data_through,
        "forecast_month_end": s.forecast_month.to_decimal(2),
        "forecast_method": s.method,
        "crosses_on": s.crosses_on,
        "crossed": s.crossed,
        "quarter": s.quarter_label,
        "quarter_budget": s.quarter_budget.map(|q| q.to_decimal(2)),
        "quarter_forecast": s.quarter_forecast.to_decimal(2),
        "note": b.note,
    })
}
