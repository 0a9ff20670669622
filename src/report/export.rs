//! The monthly cost export (contract in DESIGN.md): UTF-8, RFC 4180 with
//! CRLF line ends, one line per platform × region × service × currency ×
//! provider × account × charge category × billing period, amounts as plain
//! decimals with six places, text cells that a spreadsheet would run as a
//! formula neutralised. The CLI and HTTP exports call the same function,
//! so the two are byte-identical.

use super::period::Month;
use super::ReportError;
use crate::db::costs::{export_lines, ExportLine};
use crate::db::DbConnection;
use crate::money::Micros;

pub const HEADER: [&str; 11] = [
    "month",
    "platform",
    "region",
    "service",
    "billed_cost",
    "effective_cost",
    "currency",
    "provider",
    "account_id",
    "charge_category",
    "billing_period",
];

/// Decimal places of exported amounts: every micro-unit, so the lines sum
/// to the stored totals exactly.
pub const AMOUNT_PLACES: u32 = 6;

pub fn file_name(month: Month) -> String {
    format!("finops-monthly-{month}.csv")
}

/// A text cell made safe for spreadsheets and quoted per RFC 4180.
pub fn text_cell(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '|' | '%') => format!("'{value}"),
        _ => value.to_string(),
    };
    if neutral.contains([',', '"', '\r', '\n'])
        || neutral.starts_with(' ')
        || neutral.ends_with(' ')
    {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

fn amount_cell(value: i64) -> String {
    Micros(value).to_decimal(AMOUNT_PLACES)
}

/// Renders the export of `lines` for `month`.
pub fn render(month: Month, lines: &[ExportLine]) -> Vec<u8> {
    let mut out = String::with_capacity(64 + lines.len() * 160);
    out.push_str(&HEADER.join(","));
    out.push_str("\r\n");
    let month_text = month.to_string();
    for l in lines {
        let cells = [
            month_text.clone(),
            text_cell(&l.platform),
            text_cell(&l.region),
            text_cell(&l.service),
            amount_cell(l.billed),
            amount_cell(l.effective),
            text_cell(&l.currency),
            text_cell(&l.provider),
            text_cell(&l.account_id),
            text_cell(&l.charge_category),
            text_cell(&l.billing_period),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// The monthly export of the costs charged in `month`.
pub fn monthly_csv(conn: &mut DbConnection, month: Month) -> Result<Vec<u8>, ReportError> {
    let lines = export_lines(conn, month.first_day(), month.last_day())?;
    Ok(render(month, &lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formula_cells() {
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text_cell("+1"), "'+1");
        assert_eq!(text_cell("-2+3"), "'-2+3");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("us-east-1"), "us-east-1");
    }

    #[test]
    fn quotes_per_rfc_4180() {
        assert_eq!(text_cell("a,b"), "\"a,b\"");
        assert_eq!(text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text_cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn renders_header_and_amounts() {
        let month: Month = "2026-10".parse().unwrap();
        let line = ExportLine {
            platform: "PC".into(),
            region: "us-east-1".into(),
            service: "Amazon GameLift".into(),
            currency: "USD".into(),
            provider: "AWS".into(),
            account_id: "111122223333".into(),
            charge_category: "Usage".into(),
            billing_period: "2026-10".into(),
            billed: 1_234_567_891,
            effective: -5,
        };
        let text = String::from_utf8(render(month, &[line])).unwrap();
        assert!(
            text.starts_with("month,platform,region,service,billed_cost,effective_cost,currency")
        );
        assert!(text.contains(
            "\r\n2026-10,PC,us-east-1,Amazon GameLift,1234.567891,-0.000005,USD,AWS,111122223333,Usage,2026-10\r\n"
        ));
    }

    /// Property: whatever text a cell holds, a CSV reader reads back the
    /// same text (with the formula guard's leading quote where one was
    /// needed), and the row keeps its number of cells. Rows have two cells
    /// or more, as every export does (a lone empty cell is an empty line,
    /// which CSV readers skip).
    #[test]
    fn any_text_survives_the_csv_writer() {
        let mut rng = crate::rng::Rng(4180);
        let alphabet: Vec<char> = "ab ,\"\r\n=+-@\t|%'é€0;".chars().collect();
        for case in 0..5_000 {
            let cells: Vec<String> = (0..rng.range(2, 6))
                .map(|_| {
                    (0..rng.range(0, 12))
                        .map(|_| *rng.pick(&alphabet))
                        .collect()
                })
                .collect();
            let line = cells
                .iter()
                .map(|c| text_cell(c))
                .collect::<Vec<_>>()
                .join(",");
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let record = reader
                .records()
                .next()
                .map(|r| r.expect("valid CSV"))
                .unwrap_or_default();
            assert_eq!(record.len(), cells.len(), "case {case}: {line:?}");
            for (cell, read) in cells.iter().zip(record.iter()) {
                let guarded = matches!(
                    cell.chars().next(),
                    Some('=' | '+' | '-' | '@' | '\t' | '\r' | '|' | '%')
                );
                let expected = if guarded {
                    format!("'{cell}")
                } else {
                    cell.clone()
                };
                assert_eq!(read, expected, "case {case}: {line:?}");
            }
        }
    }
}
