//! `finops export monthly`: the monthly CSV (the same bytes as the web
//! export), to a file or standard output, audited.

use std::io::Write;

use super::{CliError, ExportMonthlyArgs};
use crate::db::DbConnection;
use crate::report::export::monthly_csv;

pub fn monthly(conn: &mut DbConnection, args: &ExportMonthlyArgs) -> Result<(), CliError> {
    let catalog = crate::report::Catalog::load(conn)?;
    if let Some(why) = catalog.month_without_data(args.month) {
        return Err(CliError::Runtime(why));
    }
    let csv = monthly_csv(conn, args.month)?;
    let dest = match &args.out {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::write(path, &csv)
                .map_err(|e| CliError::Runtime(format!("{}: {e}", path.display())))?;
            eprintln!("wrote {} ({} bytes)", path.display(), csv.len());
            path.display().to_string()
        }
        _ => {
            std::io::stdout()
                .write_all(&csv)
                .map_err(|e| CliError::Runtime(format!("standard output: {e}")))?;
            "standard output".to_string()
        }
    };
    crate::audit::record(
        conn,
        "export",
        &format!("monthly CSV {}", args.month),
        crate::audit::OK,
        &format!("to {dest}, {} bytes", csv.len()),
    )?;
    Ok(())
}
