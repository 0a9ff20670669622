//! The aggregated resource-day rows of one file, and reading them back out of polars.

use super::*;

pub struct Aggregated {
    /// One row per resource-day group (converted in slices by `rows`).
    pub(super) frame: DataFrame,
    pub rows_read: u64,
    /// Amounts in micro-units, rounded so that each month × provider ×
    /// region × currency total is the exact total rounded (see
    /// [`round_preserving_totals`]).
    pub(super) billed: Vec<i64>,
    pub(super) effective: Vec<i64>,
    pub(super) list: Vec<Option<i64>>,
}

impl Aggregated {
    /// Number of resource-day rows.
    pub fn len(&self) -> usize {
        self.frame.height()
    }

    pub fn is_empty(&self) -> bool {
        self.frame.height() == 0
    }

    /// Resource-day rows `start..end` (memory for a slice at a time).
    pub fn rows(
        &self,
        file: &str,
        start: usize,
        end: usize,
    ) -> Result<Vec<ResourceDay>, ImportError> {
        let end = end.min(self.len());
        let slice = self.frame.slice(start as i64, end.saturating_sub(start));
        let mut rows = to_resource_days(file, &slice)?;
        for (k, row) in rows.iter_mut().enumerate() {
            row.billed = Micros(self.billed[start + k]);
            row.effective = Micros(self.effective[start + k]);
            row.list = self.list[start + k].map(Micros);
        }
        Ok(rows)
    }

    /// The distinct (provider, billing account, billing period) scopes and
    /// the first and last day.
    pub fn scopes(&self, file: &str) -> Result<(Vec<ScopeKey>, Option<DaySpan>), ImportError> {
        let df = &self.frame;
        let provider = texts(file, df, "__provider")?;
        let account = texts(file, df, "__billing_account")?;
        let bs = df.column("__bs").map_err(|e| polars_error(file, e))?;
        let bs: Vec<Option<i64>> = bs
            .i64()
            .map_err(|e| polars_error(file, e))?
            .iter()
            .collect();
        let mut set: std::collections::BTreeSet<ScopeKey> = Default::default();
        let mut seen: std::collections::HashSet<(Option<&str>, Option<&str>, Option<i64>)> =
            Default::default();
        for i in 0..df.height() {
            if seen.insert((provider[i].as_deref(), account[i].as_deref(), bs[i])) {
                set.insert((
                    provider[i].clone().unwrap_or_default(),
                    account[i].clone().unwrap_or_default(),
                    period_label(bs[i]),
                ));
            }
        }
        let days = day_numbers(file, df)?;
        let span = days
            .iter()
            .flatten()
            .min()
            .zip(days.iter().flatten().max())
            .map(|(a, b)| (epoch_date(*a), epoch_date(*b)));
        Ok((set.into_iter().collect(), span))
    }
}

pub(super) fn period_label(billing_start: Option<i64>) -> String {
    billing_start
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m").to_string())
        .unwrap_or_default()
}

pub(super) fn day_numbers(file: &str, df: &DataFrame) -> Result<Vec<Option<i32>>, ImportError> {
    let c = df
        .column("__day")
        .and_then(|c| c.cast(&DataType::Int32))
        .map_err(|e| polars_error(file, e))?;
    Ok(c.i32().map_err(|e| polars_error(file, e))?.iter().collect())
}

pub(super) fn texts(
    file: &str,
    df: &DataFrame,
    name: &str,
) -> Result<Vec<Option<String>>, ImportError> {
    let c = df.column(name).map_err(|e| polars_error(file, e))?;
    let c = c
        .cast(&DataType::String)
        .map_err(|e| polars_error(file, e))?;
    let ca = c.str().map_err(|e| polars_error(file, e))?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

pub(super) fn decimals(
    file: &str,
    df: &DataFrame,
    name: &str,
) -> Result<Vec<Option<i128>>, ImportError> {
    let c = df.column(name).map_err(|e| polars_error(file, e))?;
    let ca = c.decimal().map_err(|e| polars_error(file, e))?;
    let scale = ca.scale();
    let values: Vec<Option<i128>> = ca.physical().iter().collect();
    if scale == AMOUNT_SCALE {
        return Ok(values);
    }
    // Sums keep the input scale; convert defensively if polars changes it.
    let factor = 10_i128.pow(AMOUNT_SCALE.abs_diff(scale) as u32);
    Ok(values
        .into_iter()
        .map(|v| {
            v.map(|v| {
                if scale < AMOUNT_SCALE {
                    v * factor
                } else {
                    v / factor
                }
            })
        })
        .collect())
}

pub(super) fn floats(
    file: &str,
    df: &DataFrame,
    name: &str,
) -> Result<Vec<Option<f64>>, ImportError> {
    let c = df.column(name).map_err(|e| polars_error(file, e))?;
    let ca = c.f64().map_err(|e| polars_error(file, e))?;
    Ok(ca.iter().collect())
}

pub(super) fn to_resource_days(
    file: &str,
    df: &DataFrame,
) -> Result<Vec<ResourceDay>, ImportError> {
    let days = day_numbers(file, df)?;
    let bs_col = df.column("__bs").map_err(|e| polars_error(file, e))?;
    let billing_starts: Vec<Option<i64>> = bs_col
        .i64()
        .map_err(|e| polars_error(file, e))?
        .iter()
        .collect();
    let text = |name| texts(file, df, name);
    let (billing_account, provider, account, region) = (
        text("__billing_account")?,
        text("__provider")?,
        text("__account")?,
        text("__region")?,
    );
    let (service, category, currency, resource, tags, unit) = (
        text("__service")?,
        text("__category")?,
        text("__currency")?,
        text("__resource")?,
        text("__tags")?,
        text("__unit")?,
    );
    let commitments = text("__commitment")?;
    let classes = text("__class")?;
    let qty = floats(file, df, "qty")?;
    let qty_n = column_u64(file, df, "qty_n")?;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let day = epoch_date(days[i].unwrap_or(0));
        let billing_period = period_label(billing_starts[i]);
        let unit_text = s(&unit[i]);
        let (class_text, instance_type) = classes[i]
            .as_deref()
            .unwrap_or_default()
            .split_once(CLASS_SEPARATOR)
            .unwrap_or((classes[i].as_deref().unwrap_or_default(), ""));
        out.push(ResourceDay {
            day,
            billing_period,
            billing_account: s(&billing_account[i]),
            provider: s(&provider[i]),
            account_id: s(&account[i]),
            region: s(&region[i]),
            service: s(&service[i]),
            charge_category: s(&category[i]),
            currency: s(&currency[i]).to_ascii_uppercase(),
            resource: s(&resource[i]),
            tags: s(&tags[i]),
            commitment_id: commitment_part(&commitments[i], 0),
            commitment_type: commitment_part(&commitments[i], 1),
            commitment_status: commitment_part(&commitments[i], 2),
            commitment_end: commitment_part(&commitments[i], 3)
                .get(..10)
                .unwrap_or("")
                .to_string(),
            // Set by `Aggregated::rows` (rounded with their group).
            billed: Micros::ZERO,
            effective: Micros::ZERO,
            list: None,
            usage_quantity: if qty_n[i] > 0 { qty[i] } else { None },
            usage_unit: (!unit_text.is_empty()).then_some(unit_text),
            usage_class: crate::usage_class::UsageClass::parse(class_text),
            instance_type: instance_type.to_string(),
        });
    }
    Ok(out)
}

/// Separates the commitment's id, type, status and end in one group key (one
/// key groups faster than three, and most rows have none: empty).
pub(super) const COMMITMENT_SEPARATOR: char = '\u{1f}';

pub(super) fn commitment_key(fields: &Fields) -> Expr {
    fields.commitment_id.clone().map_many(
        |cols: &mut [Column]| {
            // Inputs may be literals (one value for every row).
            let height = cols.iter().map(|c| c.len()).max().unwrap_or(0);
            let (id, kind, status, end) = (
                cols[0].str()?,
                cols[1].str()?,
                cols[2].str()?,
                cols[3].str()?,
            );
            let at = |ca: &StringChunked, i: usize| -> Option<String> {
                let i = if ca.len() == 1 { 0 } else { i };
                if i < ca.len() {
                    ca.get(i).map(str::to_string)
                } else {
                    None
                }
            };
            let out: StringChunked = (0..height)
                .map(|i| {
                    let parts = [at(id, i), at(kind, i), at(status, i), at(end, i)];
                    if parts[..3].iter().all(Option::is_none) {
                        Some(String::new())
                    } else {
                        Some(
                            parts
                                .map(|p| p.unwrap_or_default())
                                .join(&COMMITMENT_SEPARATOR.to_string()),
                        )
                    }
                })
                .collect();
            Ok(out.with_name("__commitment".into()).into_column())
        },
        &[
            fields.commitment_type.clone(),
            fields.commitment_status.clone(),
            fields.commitment_end.clone(),
        ],
        |_, _| Ok(Field::new("__commitment".into(), DataType::String)),
    )
}

pub(super) fn commitment_part(key: &Option<String>, index: usize) -> String {
    key.as_deref()
        .and_then(|k| k.split(COMMITMENT_SEPARATOR).nth(index))
        .unwrap_or("")
        .to_string()
}
