//! The instance catalog: instance and fleet types (vCPU, memory, family,
//! generation) and their hourly prices per region and offer: on demand,
//! Compute and EC2 Instance Savings Plans and Reserved Instances for 1 and
//! 3 years and each payment option.
//!
//! The project ships one (`src/pricing/data/aws-instances.csv`, its
//! sources and date in its header); `finops catalog import FILE` replaces
//! it as a whole with a file in the same format. Prices are micro-units.
//!
//! Plain types and parsing, below the storage layer: `db::instance_catalog`
//! stores a catalog, `ingest::catalog` imports one, `recommend` prices with
//! the one in use (`recommend::price_catalog`).

pub mod aws_price_list;

use std::collections::BTreeMap;

use crate::money::Micros;
use aws_price_list::PriceList;

/// The catalog compiled into the binary, used until one is imported.
pub const BUILT_IN: &str = include_str!("data/aws-instances.csv");
pub const BUILT_IN_NAME: &str = "aws-instances.csv (built in)";

/// A commitment offer.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Offer {
    ComputeSp,
    Ec2InstanceSp,
    Reserved,
}

impl Offer {
    pub const ALL: [Offer; 3] = [Offer::ComputeSp, Offer::Ec2InstanceSp, Offer::Reserved];

    pub fn as_str(self) -> &'static str {
        match self {
            Offer::ComputeSp => "compute_sp",
            Offer::Ec2InstanceSp => "ec2_instance_sp",
            Offer::Reserved => "reserved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Offer::ComputeSp => "Compute Savings Plan",
            Offer::Ec2InstanceSp => "EC2 Instance Savings Plan",
            Offer::Reserved => "Reserved Instances",
        }
    }

    pub fn parse(text: &str) -> Option<Offer> {
        Offer::ALL
            .into_iter()
            .find(|o| o.as_str() == text.trim().to_ascii_lowercase())
    }
}

/// Payment option of a commitment.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    NoUpfront,
    PartialUpfront,
    AllUpfront,
}

impl Payment {
    pub const ALL: [Payment; 3] = [
        Payment::NoUpfront,
        Payment::PartialUpfront,
        Payment::AllUpfront,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Payment::NoUpfront => "no",
            Payment::PartialUpfront => "partial",
            Payment::AllUpfront => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Payment::NoUpfront => "no upfront",
            Payment::PartialUpfront => "partial upfront",
            Payment::AllUpfront => "all upfront",
        }
    }

    /// Share of the term's cost paid on the first day (AWS's partial
    /// upfront is about half).
    pub fn upfront_share(self) -> f64 {
        match self {
            Payment::NoUpfront => 0.0,
            Payment::PartialUpfront => 0.5,
            Payment::AllUpfront => 1.0,
        }
    }

    pub fn parse(text: &str) -> Option<Payment> {
        match text.trim().to_ascii_lowercase().as_str() {
            "no" | "no_upfront" | "no upfront" => Some(Payment::NoUpfront),
            "partial" | "partial_upfront" | "partial upfront" => Some(Payment::PartialUpfront),
            "all" | "all_upfront" | "all upfront" => Some(Payment::AllUpfront),
            _ => None,
        }
    }
}

/// An instance or fleet type.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TypeSpec {
    /// `ec2` or `gamelift`.
    pub service: String,
    pub instance_type: String,
    pub family: String,
    pub generation: i32,
    pub vcpu: f64,
    pub memory_gib: f64,
}

/// Prices of one type in one region.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RegionPrices {
    pub currency: String,
    pub on_demand: Micros,
    /// (offer, term years, payment) → effective hourly rate.
    pub commitments: BTreeMap<(Offer, i32, Payment), Micros>,
    /// Where the on-demand price came from ("" until a catalog is made:
    /// its source).
    pub on_demand_origin: String,
    /// Where each commitment rate came from.
    pub commitment_origins: BTreeMap<(Offer, i32, Payment), String>,
}

impl RegionPrices {
    /// A new on-demand price from `origin`: each commitment rate keeps its
    /// ratio to on demand, and its origin says so (`discount_note`).
    fn set_on_demand(&mut self, on_demand: Micros, origin: String, discount_note: &str) {
        if self.on_demand.0 > 0 && on_demand.0 > 0 {
            let scale = on_demand.0 as f64 / self.on_demand.0 as f64;
            for (k, c) in self.commitments.iter_mut() {
                *c = Micros((c.0 as f64 * scale).round() as i64);
                if let Some(o) = self.commitment_origins.get_mut(k) {
                    if !o.contains(discount_note) {
                        o.push_str(discount_note);
                    }
                }
            }
        }
        self.on_demand = on_demand;
        self.on_demand_origin = origin;
    }
}

/// A commitment rate's key: offer, term years, payment.
pub type RateKey = (Offer, i32, Payment);

/// Whether a price's origin is a derived one (the built-in catalog's
/// typical discounts), not a published or billed price.
pub fn origin_is_derived(origin: &str) -> bool {
    origin.contains(BUILT_IN_NAME)
}

/// Where the prices a recommendation used came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PriceSources {
    pub on_demand: Vec<String>,
    pub commitments: Vec<String>,
}

impl PriceSources {
    /// Whether any commitment rate used is derived.
    pub fn derived(&self) -> bool {
        self.commitments.iter().any(|o| origin_is_derived(o))
    }

    /// One line: "on demand: …; commitment rates: …".
    pub fn describe(&self) -> String {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join("; ")
            }
        };
        if self.commitments.is_empty() || self.commitments == self.on_demand {
            return list(&self.on_demand);
        }
        format!(
            "on demand: {}; commitment rates: {}",
            list(&self.on_demand),
            list(&self.commitments)
        )
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct PriceCatalog {
    /// Where it came from: a file name or the built-in one.
    pub source: String,
    /// By (service, instance type).
    pub types: BTreeMap<(String, String), TypeSpec>,
    /// By (service, instance type, region).
    pub prices: BTreeMap<(String, String, String), RegionPrices>,
}

/// What is wrong with a catalog file, with its line and column.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    #[error("{file}: the file has no header row")]
    NoHeader { file: String },
    #[error("{file}: column {column} is missing (see the header of the built-in catalog)")]
    MissingColumn { file: String, column: String },
    #[error("{file}: the file has no rows")]
    NoRows { file: String },
    #[error("{file}, line {line}, column {column}: {reason}")]
    Cell {
        file: String,
        line: usize,
        column: String,
        reason: String,
    },
    #[error("{file}, line {line}: {reason}")]
    Line {
        file: String,
        line: usize,
        reason: String,
    },
}

const REQUIRED: [&str; 9] = [
    "service",
    "instance_type",
    "family",
    "generation",
    "vcpu",
    "memory_gib",
    "region",
    "currency",
    "on_demand",
];

/// The name of a commitment price column, e.g. `compute_sp_1y_no_upfront`.
pub fn column_name(offer: Offer, term: i32, payment: Payment) -> String {
    format!("{}_{term}y_{}_upfront", offer.as_str(), payment.as_str())
}

fn price(text: &str) -> Result<Micros, String> {
    let m = Micros::parse(text).map_err(|_| "is not a price (a decimal number)".to_string())?;
    if m.0 < 0 {
        return Err("is negative".to_string());
    }
    Ok(m)
}

/// Parses a catalog file's text (comma-separated, `#` comment lines, no
/// quoting). `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<PriceCatalog, CatalogError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (_, header) = lines.next().ok_or(CatalogError::NoHeader {
        file: file.to_string(),
    })?;
    let names: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let index = |name: &str| names.iter().position(|n| n == name);
    let mut required = [0usize; 9];
    for (k, name) in REQUIRED.iter().enumerate() {
        required[k] = index(name).ok_or_else(|| CatalogError::MissingColumn {
            file: file.to_string(),
            column: name.to_string(),
        })?;
    }
    let mut commitment_columns = Vec::new();
    for offer in Offer::ALL {
        for term in [1, 3] {
            for payment in Payment::ALL {
                if let Some(i) = index(&column_name(offer, term, payment)) {
                    commitment_columns.push((i, offer, term, payment));
                }
            }
        }
    }
    let mut catalog = PriceCatalog {
        source: file.to_string(),
        ..PriceCatalog::default()
    };
    for (line, text) in lines {
        if text.contains('"') {
            return Err(CatalogError::Line {
                file: file.to_string(),
                line,
                reason: "quoted cells are not supported; the catalog has no commas in values"
                    .to_string(),
            });
        }
        let cells: Vec<&str> = text.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            return Err(CatalogError::Line {
                file: file.to_string(),
                line,
                reason: format!(
                    "has {} cells, the header has {} columns",
                    cells.len(),
                    names.len()
                ),
            });
        }
        let cell_error = |column: usize, reason: String| CatalogError::Cell {
            file: file.to_string(),
            line,
            column: names[column].clone(),
            reason: format!("'{}' {reason}", cells[column]),
        };
        let text_cell = |k: usize| -> Result<String, CatalogError> {
            let i = required[k];
            if cells[i].is_empty() {
                return Err(cell_error(i, "is empty; a value is required".to_string()));
            }
            Ok(cells[i].to_string())
        };
        let number = |k: usize| -> Result<f64, CatalogError> {
            let i = required[k];
            match cells[i].parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
                _ => Err(cell_error(i, "is not a positive number".to_string())),
            }
        };
        let service = text_cell(0)?.to_ascii_lowercase();
        if service != "ec2" && service != "gamelift" {
            return Err(cell_error(
                required[0],
                "is not a service (ec2 or gamelift)".to_string(),
            ));
        }
        let instance_type = text_cell(1)?;
        let generation = cells[required[3]]
            .parse::<i32>()
            .ok()
            .filter(|g| *g >= 0)
            .ok_or_else(|| cell_error(required[3], "is not a generation number".to_string()))?;
        let spec = TypeSpec {
            service: service.clone(),
            instance_type: instance_type.clone(),
            family: text_cell(2)?,
            generation,
            vcpu: number(4)?,
            memory_gib: number(5)?,
        };
        let region = text_cell(6)?;
        let currency = text_cell(7)?.to_ascii_uppercase();
        let on_demand = price(cells[required[8]]).map_err(|r| cell_error(required[8], r))?;
        if on_demand.0 == 0 {
            return Err(cell_error(required[8], "is zero".to_string()));
        }
        let mut commitments = BTreeMap::new();
        for &(i, offer, term, payment) in &commitment_columns {
            if cells[i].is_empty() {
                continue;
            }
            let rate = price(cells[i]).map_err(|r| cell_error(i, r))?;
            if rate >= on_demand {
                return Err(cell_error(
                    i,
                    "is not below the on-demand price; a commitment must be cheaper".to_string(),
                ));
            }
            commitments.insert((offer, term, payment), rate);
        }
        let key = (service.clone(), instance_type.clone());
        if let Some(seen) = catalog.types.get(&key) {
            if seen != &spec {
                return Err(CatalogError::Line {
                    file: file.to_string(),
                    line,
                    reason: format!(
                        "{instance_type} is described differently from an earlier row (vCPU, memory, family or generation)"
                    ),
                });
            }
        }
        catalog.types.insert(key, spec);
        let price_key = (service, instance_type.clone(), region.clone());
        if catalog.prices.contains_key(&price_key) {
            return Err(CatalogError::Line {
                file: file.to_string(),
                line,
                reason: format!("{instance_type} in {region} appears twice"),
            });
        }
        catalog.prices.insert(
            price_key,
            RegionPrices {
                currency,
                on_demand,
                commitments,
                ..RegionPrices::default()
            },
        );
    }
    if catalog.prices.is_empty() {
        return Err(CatalogError::NoRows {
            file: file.to_string(),
        });
    }
    catalog.fill_origins();
    Ok(catalog)
}

/// The origin of an on-demand rate read off the bill.
pub const BILL_ORIGIN: &str = "your bill (on-demand rate of the last 30 days)";
/// Added to a commitment rate's origin when its discount is applied to
/// the bill's on-demand rate.
const BILL_DISCOUNT: &str = ", as a discount on your bill's rate";
/// Added when a price list replaced the on-demand price but gave no rate
/// of this offer.
const DISCOUNT_KEPT: &str = ", as a discount on the price list's on-demand price";

/// What laying a price list over a catalog changed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ListMerge {
    /// (type, region) on-demand prices set from the list.
    pub on_demand: usize,
    /// Of those, pairs the catalog did not price before.
    pub added: usize,
    /// Commitment rates set from the list.
    pub commitments: usize,
    /// On-demand prices of types the list did not describe (no vCPU or
    /// memory): left out.
    pub skipped_unknown_type: usize,
    /// Commitment rates for a (type, region) with no on-demand price.
    pub skipped_no_on_demand: usize,
    /// Commitment rates not below on demand.
    pub skipped_not_cheaper: usize,
}

/// The built-in catalog.
pub fn built_in() -> PriceCatalog {
    // The file is part of the source tree and parsed by a test; a broken
    // edit fails that test rather than reaching users.
    parse(BUILT_IN_NAME, BUILT_IN).unwrap_or_default()
}

impl PriceCatalog {
    pub fn spec(&self, service: &str, instance_type: &str) -> Option<&TypeSpec> {
        self.types
            .get(&(service.to_string(), instance_type.to_string()))
    }

    pub fn prices(
        &self,
        service: &str,
        instance_type: &str,
        region: &str,
    ) -> Option<&RegionPrices> {
        self.prices.get(&(
            service.to_string(),
            instance_type.to_string(),
            region.to_string(),
        ))
    }

    /// Every type of `service` priced in `region`, with its on-demand
    /// price.
    pub fn priced_in<'a>(
        &'a self,
        service: &'a str,
        region: &'a str,
    ) -> impl Iterator<Item = (&'a TypeSpec, &'a RegionPrices)> + 'a {
        self.prices
            .iter()
            .filter(move |((s, _, r), _)| s == service && r == region)
            .filter_map(move |((s, t, _), p)| Some((self.types.get(&(s.clone(), t.clone()))?, p)))
    }

    /// Ratio of a commitment's rate to on demand for a type in a region.
    pub fn rate_ratio(
        &self,
        instance_type: &str,
        region: &str,
        offer: Offer,
        term: i32,
        payment: Payment,
    ) -> Option<f64> {
        let p = self.prices("ec2", instance_type, region)?;
        let rate = p.commitments.get(&(offer, term, payment))?;
        Some(rate.0 as f64 / p.on_demand.0 as f64)
    }

    /// Whether any EC2 commitment rate in the catalog is derived from
    /// typical discounts rather than read from a price list or a bill.
    pub fn commitment_rates_derived(&self) -> bool {
        self.prices
            .iter()
            .filter(|((s, _, _), _)| s == "ec2")
            .flat_map(|(_, p)| p.commitment_origins.values())
            .any(|o| origin_is_derived(o))
    }

    /// Gives every price without an origin the catalog's source.
    pub fn fill_origins(&mut self) {
        for p in self.prices.values_mut() {
            if p.on_demand_origin.is_empty() {
                p.on_demand_origin = self.source.clone();
            }
            for key in p.commitments.keys() {
                p.commitment_origins
                    .entry(*key)
                    .or_insert_with(|| self.source.clone());
            }
        }
    }

    /// Where the EC2 prices of these (instance type, region) pairs came
    /// from; only the commitment rates `rates` accepts are counted (an
    /// offer, or the one term and payment recommended).
    pub fn sources_for<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        rates: impl Fn(&RateKey) -> bool,
    ) -> PriceSources {
        let mut out = PriceSources::default();
        let add = |list: &mut Vec<String>, origin: &str| {
            if !list.iter().any(|o| o == origin) {
                list.push(origin.to_string());
            }
        };
        for (itype, region) in pairs {
            let Some(p) = self.prices("ec2", itype, region) else {
                continue;
            };
            add(&mut out.on_demand, &p.on_demand_origin);
            for (key, origin) in &p.commitment_origins {
                if rates(key) {
                    add(&mut out.commitments, origin);
                }
            }
        }
        out
    }

    /// The catalog with an AWS Price List laid over it: each (type,
    /// region) the list prices takes its on-demand price and the
    /// commitment rates it gives; a rate the list does not give keeps the
    /// catalog's discount on the new on-demand price, and keeps saying
    /// where that discount came from. Types the list describes are added
    /// or updated. Returns what changed.
    pub fn with_price_list(mut self, list: &PriceList) -> (PriceCatalog, ListMerge) {
        let mut merge = ListMerge::default();
        let origin = |file: usize| list.files.get(file).map(|f| f.origin()).unwrap_or_default();
        let currency = list.currency.clone().unwrap_or_else(|| "USD".to_string());
        for (itype, spec) in &list.types {
            self.types
                .insert(("ec2".to_string(), itype.clone()), spec.clone());
        }
        for ((itype, region), od) in &list.on_demand {
            if !self.types.contains_key(&("ec2".to_string(), itype.clone())) {
                merge.skipped_unknown_type += 1;
                continue;
            }
            let key = ("ec2".to_string(), itype.clone(), region.clone());
            let p = self.prices.entry(key).or_insert_with(|| {
                merge.added += 1;
                RegionPrices::default()
            });
            p.set_on_demand(od.hourly, origin(od.file), DISCOUNT_KEPT);
            p.currency = currency.clone();
            merge.on_demand += 1;
        }
        for ((itype, region), rates) in &list.commitments {
            let key = ("ec2".to_string(), itype.clone(), region.clone());
            let Some(p) = self.prices.get_mut(&key) else {
                merge.skipped_no_on_demand += rates.len();
                continue;
            };
            for (k, rate) in rates {
                if rate.hourly >= p.on_demand || rate.hourly.0 <= 0 {
                    merge.skipped_not_cheaper += 1;
                    continue;
                }
                p.commitments.insert(*k, rate.hourly);
                p.commitment_origins.insert(*k, origin(rate.file));
                merge.commitments += 1;
            }
        }
        // A type added by the list with no rate of an offer has none: nothing
        // says what that commitment costs.
        (self, merge)
    }

    /// The catalog with the on-demand rates a bill shows (EC2, by
    /// (region, instance type), per hour) in place of its own; each type's
    /// commitment rates keep their ratio to on demand. Types the catalog
    /// does not know are left out (nothing says what a commitment on them
    /// costs). Returns how many (type, region) prices came from the bill.
    pub fn with_billed_on_demand(
        mut self,
        billed: &BTreeMap<(String, String), Micros>,
    ) -> (PriceCatalog, usize) {
        let mut replaced = 0;
        for ((region, itype), rate) in billed {
            let key = ("ec2".to_string(), itype.clone(), region.clone());
            let Some(p) = self.prices.get_mut(&key) else {
                continue;
            };
            if p.on_demand.0 <= 0 || rate.0 <= 0 {
                continue;
            }
            p.set_on_demand(*rate, BILL_ORIGIN.to_string(), BILL_DISCOUNT);
            replaced += 1;
        }
        if replaced > 0 {
            self.source = format!(
                "on-demand rates of {replaced} type{} × region from the bill; other prices and the commitment rates' discounts: {}",
                if replaced == 1 { "" } else { "s" },
                self.source
            );
        }
        (self, replaced)
    }

    /// The catalog with the commitment rates the bill shows a commitment
    /// held paying (its rate ÷ on demand, by (region, instance type) and
    /// (offer, term, payment)), applied to the catalog's on-demand price.
    /// What the user is charged comes before any published or derived
    /// rate.
    pub fn with_billed_commitment_rates(
        mut self,
        ratios: &BTreeMap<(String, String), BTreeMap<RateKey, f64>>,
    ) -> PriceCatalog {
        for ((region, itype), rates) in ratios {
            let key = ("ec2".to_string(), itype.clone(), region.clone());
            let Some(p) = self.prices.get_mut(&key) else {
                continue;
            };
            for (k, ratio) in rates {
                if !(*ratio > 0.0 && *ratio < 1.0) {
                    continue;
                }
                p.commitments
                    .insert(*k, Micros((p.on_demand.0 as f64 * ratio).round() as i64));
                p.commitment_origins.insert(
                    *k,
                    format!(
                        "your bill (what your {} {}-year {} pays)",
                        k.0.label(),
                        k.1,
                        k.2.label()
                    ),
                );
            }
        }
        self
    }

    /// Number of types and of priced (type, region) pairs.
    pub fn counts(&self) -> (usize, usize) {
        (self.types.len(), self.prices.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalog_parses_and_prices_what_the_demo_runs() {
        let c = parse(BUILT_IN_NAME, BUILT_IN).expect("built-in catalog");
        assert!(c.types.len() >= 40, "{}", c.types.len());
        for t in [
            "c5.4xlarge",
            "c6i.4xlarge",
            "m6i.2xlarge",
            "m6i.8xlarge",
            "r6i.4xlarge",
            "t3.xlarge",
            "c6i.8xlarge",
            "c5.2xlarge",
        ] {
            let p = c.prices("ec2", t, "eu-west-1").expect(t);
            assert!(p.on_demand.0 > 0);
            assert_eq!(p.commitments.len(), 18, "{t}");
        }
        let p = c
            .prices("ec2", "c6i.large", "us-east-1")
            .expect("c6i.large");
        assert_eq!(p.on_demand, Micros(85_000));
        assert_eq!(
            p.commitments[&(Offer::ComputeSp, 1, Payment::NoUpfront)],
            Micros(61_200)
        );
        let spec = c.spec("ec2", "m6i.2xlarge").expect("m6i.2xlarge");
        assert_eq!(
            (spec.vcpu, spec.memory_gib, spec.generation),
            (8.0, 32.0, 6)
        );
        assert!(c.prices("gamelift", "c5.large", "us-east-1").is_some());
    }

    #[test]
    fn a_bad_cell_is_named_by_line_and_column() {
        let text = "# comment\nservice,instance_type,family,generation,vcpu,memory_gib,region,currency,on_demand,compute_sp_1y_no_upfront\nec2,c6i.large,c6i,6,2,4,us-east-1,USD,0.085,0.0612\nec2,c6i.xlarge,c6i,6,4,8,us-east-1,USD,0.17,0.2\n";
        let e = parse("prices.csv", text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "prices.csv, line 4, column compute_sp_1y_no_upfront: '0.2' is not below the on-demand price; a commitment must be cheaper"
        );
        let e = parse(
            "p.csv",
            "service,instance_type,family,generation,vcpu,memory_gib,region,currency\n",
        )
        .unwrap_err();
        assert!(
            matches!(e, CatalogError::MissingColumn { ref column, .. } if column == "on_demand")
        );
        let e = parse("p.csv", &text.replace("0.085", "cheap")).unwrap_err();
        assert!(
            e.to_string().contains("line 3, column on_demand: 'cheap'"),
            "{e}"
        );
        let e = parse("p.csv", &text.replace(",4,us-east-1", ",four,us-east-1")).unwrap_err();
        assert!(e.to_string().contains("column memory_gib"), "{e}");
    }
}
