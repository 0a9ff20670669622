//! AWS Price List files, read as a stream: the EC2 offer file of a region
//! (AWS's JSON and CSV forms, hundreds of MB each) and the Savings Plans
//! rate files (JSON). What is kept is the price of a Linux, shared-tenancy,
//! on-demand instance hour per type and region, the standard Reserved
//! Instance rates and the Savings Plans rates for those same instance
//! hours, which is what the catalog prices recommendations with.
//!
//! Memory stays bounded by what is kept, never by the file: the JSON is
//! walked entry by entry (`json`), the CSV row by row (`csv`).
//!
//! `PriceCatalog::with_price_list` lays what was read over a catalog.

mod csv;
mod json;

use std::collections::BTreeMap;
use std::io::Read;

use super::{Payment, RateKey, TypeSpec};
use crate::money::Micros;

/// Hours a Reserved Instance's upfront fee is spread over.
pub fn term_hours(years: i32) -> f64 {
    f64::from(years) * 8760.0
}

/// A Reserved Instance's upfront fee (micro-units) per hour of its term,
/// rounded to the micro-unit.
pub fn spread_upfront(upfront_micros: i64, years: i32) -> i64 {
    let hours = term_hours(years) as i64;
    (2 * upfront_micros + hours) / (2 * hours)
}

/// What is wrong with a price list file.
#[derive(Debug, thiserror::Error)]
pub enum PriceListError {
    #[error("{file}: cannot read the file: {message}")]
    Io { file: String, message: String },
    #[error("{file}: not an AWS Price List file: {reason}")]
    NotAPriceList { file: String, reason: String },
    #[error("{file}: line {line}, column {column}: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: line {line}, column {column}: {reason}")]
    Cell {
        file: String,
        line: u64,
        column: String,
        reason: String,
    },
    #[error("{file}: {reason}")]
    Unsupported { file: String, reason: String },
    #[error("{file}: holds no Linux, shared-tenancy EC2 instance-hour prices{hint}")]
    NothingPriced { file: String, hint: String },
}

/// Which AWS offer a file is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// `AmazonEC2`: products, on-demand and Reserved Instance terms.
    Ec2Offer,
    /// `AWSComputeSavingsPlan`: Compute and EC2 Instance Savings Plans rates.
    SavingsPlans,
}

/// One file read.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ListFile {
    pub file: String,
    pub kind: ListKind,
    pub offer_code: String,
    /// The file's publication date (YYYY-MM-DD), or "" if it gave none.
    pub published: String,
    /// Prices kept from it.
    pub prices: usize,
}

impl ListFile {
    /// How a price from this file is described ("AWS Price List
    /// AmazonEC2, published 2026-11-01").
    pub fn origin(&self) -> String {
        if self.published.is_empty() {
            format!("AWS Price List {}", self.offer_code)
        } else {
            format!(
                "AWS Price List {}, published {}",
                self.offer_code, self.published
            )
        }
    }
}

/// (instance type, region).
pub type TypeRegion = (String, String);

/// A price and the index of the file it came from.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ListPrice {
    pub hourly: Micros,
    pub file: usize,
}

/// What the files read so far hold, by (instance type, region).
#[derive(Clone, Debug, Default)]
pub struct PriceList {
    pub files: Vec<ListFile>,
    pub currency: Option<String>,
    /// EC2 types with their size, by instance type.
    pub types: BTreeMap<String, TypeSpec>,
    pub on_demand: BTreeMap<(String, String), ListPrice>,
    pub commitments: BTreeMap<TypeRegion, BTreeMap<RateKey, ListPrice>>,
}

impl PriceList {
    /// Reads one file (JSON or CSV, told apart by its first byte) and adds
    /// what it prices. `progress(bytes)` is called as it is read.
    pub fn read(
        &mut self,
        file: &str,
        reader: impl Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<&ListFile, PriceListError> {
        let mut reader = std::io::BufReader::with_capacity(
            1 << 20,
            Counting {
                inner: reader,
                read: 0,
                reported: 0,
                progress,
            },
        );
        let first = first_byte(&mut reader).map_err(|e| PriceListError::Io {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let index = self.files.len();
        let read = match first {
            Some(b'{') => json::read(file, &mut reader)?,
            Some(b'"') => csv::read(file, &mut reader)?,
            Some(_) => {
                return Err(PriceListError::NotAPriceList {
                    file: file.to_string(),
                    reason: "it is neither JSON (an offer file starts with '{') nor AWS's CSV form (it starts with \"FormatVersion\")".to_string(),
                })
            }
            None => {
                return Err(PriceListError::NotAPriceList {
                    file: file.to_string(),
                    reason: "the file is empty".to_string(),
                })
            }
        };
        self.add(read)?;
        Ok(&self.files[index])
    }

    fn add(&mut self, read: Read1) -> Result<(), PriceListError> {
        let Read1 {
            mut meta,
            currency,
            types,
            on_demand,
            commitments,
        } = read;
        if let (Some(have), Some(new)) = (&self.currency, &currency) {
            if have != new {
                return Err(PriceListError::Unsupported {
                    file: meta.file,
                    reason: format!(
                        "its prices are in {new}, the files before it in {have}; import one currency at a time"
                    ),
                });
            }
        }
        let priced = on_demand.len() + commitments.values().map(BTreeMap::len).sum::<usize>();
        if priced == 0 {
            let hint = match meta.kind {
                ListKind::Ec2Offer => {
                    " (is it the EC2 offer file of a region, not another service's?)"
                }
                ListKind::SavingsPlans => {
                    " (Savings Plans rates for EC2 BoxUsage with operation RunInstances)"
                }
            };
            return Err(PriceListError::NothingPriced {
                file: meta.file,
                hint: hint.to_string(),
            });
        }
        meta.prices = priced;
        let index = self.files.len();
        if currency.is_some() {
            self.currency = currency;
        }
        for (t, spec) in types {
            self.types.insert(t, spec);
        }
        for (key, hourly) in on_demand {
            self.on_demand.insert(
                key,
                ListPrice {
                    hourly,
                    file: index,
                },
            );
        }
        for (key, rates) in commitments {
            let entry = self.commitments.entry(key).or_default();
            for (k, hourly) in rates {
                entry.insert(
                    k,
                    ListPrice {
                        hourly,
                        file: index,
                    },
                );
            }
        }
        self.files.push(meta);
        Ok(())
    }
}

/// What one file priced, before it is added.
struct Read1 {
    meta: ListFile,
    currency: Option<String>,
    types: BTreeMap<String, TypeSpec>,
    on_demand: BTreeMap<(String, String), Micros>,
    commitments: BTreeMap<TypeRegion, BTreeMap<RateKey, Micros>>,
}

impl Read1 {
    fn new(file: &str, kind: ListKind) -> Read1 {
        Read1 {
            meta: ListFile {
                file: file.to_string(),
                kind,
                offer_code: String::new(),
                published: String::new(),
                prices: 0,
            },
            currency: None,
            types: BTreeMap::new(),
            on_demand: BTreeMap::new(),
            commitments: BTreeMap::new(),
        }
    }

    /// Notes the currency of a price; a second currency in one file is
    /// refused.
    fn currency(&mut self, currency: &str) -> Result<(), String> {
        match &self.currency {
            Some(c) if c != currency => Err(format!(
                "prices in both {c} and {currency}; a catalog holds one currency"
            )),
            Some(_) => Ok(()),
            None => {
                self.currency = Some(currency.to_string());
                Ok(())
            }
        }
    }
}

/// The size and family of an instance type from the offer's attributes
/// ("2", "4 GiB", "1,024 GiB").
fn type_spec(instance_type: &str, vcpu: &str, memory: &str) -> Option<TypeSpec> {
    let vcpu: f64 = vcpu.trim().replace(',', "").parse().ok()?;
    let memory_gib: f64 = memory
        .trim()
        .trim_end_matches("GiB")
        .trim()
        .replace(',', "")
        .parse()
        .ok()?;
    if !(vcpu > 0.0 && memory_gib > 0.0) {
        return None;
    }
    let family = instance_type.split('.').next()?.to_string();
    let generation = family
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    Some(TypeSpec {
        service: "ec2".to_string(),
        instance_type: instance_type.to_string(),
        family,
        generation,
        vcpu,
        memory_gib,
    })
}

/// Whether an EC2 product is a Linux, shared-tenancy, on-demand-capacity
/// instance hour, the one every recommendation is priced on. Attributes
/// a file does not have are not checked.
struct ProductFilter<'a> {
    product_family: &'a str,
    tenancy: &'a str,
    operating_system: &'a str,
    license_model: &'a str,
    pre_installed_sw: &'a str,
    capacity_status: &'a str,
    operation: &'a str,
    usage_type: &'a str,
    market_option: &'a str,
}

impl ProductFilter<'_> {
    fn is_linux_shared_instance_hour(&self) -> bool {
        let any = |value: &str, wanted: &str| value.is_empty() || value == wanted;
        self.product_family == "Compute Instance"
            && self.tenancy == "Shared"
            && self.operating_system == "Linux"
            && any(self.license_model, "No License required")
            && any(self.pre_installed_sw, "NA")
            && any(self.capacity_status, "Used")
            && any(self.operation, "RunInstances")
            && any(self.market_option, "OnDemand")
            && (self.usage_type.is_empty() || self.usage_type.contains("BoxUsage:"))
    }
}

/// "1yr" / "3yr" / "1 year" → years.
fn lease_years(text: &str) -> Option<i32> {
    let t = text.trim().to_ascii_lowercase();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let years: i32 = digits.parse().ok()?;
    let rest = t[digits.len()..].trim();
    (matches!(rest, "yr" | "year" | "years") && (years == 1 || years == 3)).then_some(years)
}

/// "No Upfront" / "Partial Upfront" / "All Upfront".
fn purchase_option(text: &str) -> Option<Payment> {
    Payment::parse(text)
}

/// The region code of a price list location name, for files that give
/// only the name.
fn region_of_location(location: &str) -> Option<&'static str> {
    const NAMES: [(&str, &str); 30] = [
        ("US East (N. Virginia)", "us-east-1"),
        ("US East (Ohio)", "us-east-2"),
        ("US West (N. California)", "us-west-1"),
        ("US West (Oregon)", "us-west-2"),
        ("Canada (Central)", "ca-central-1"),
        ("Canada West (Calgary)", "ca-west-1"),
        ("EU (Ireland)", "eu-west-1"),
        ("EU (London)", "eu-west-2"),
        ("EU (Paris)", "eu-west-3"),
        ("EU (Frankfurt)", "eu-central-1"),
        ("EU (Zurich)", "eu-central-2"),
        ("EU (Stockholm)", "eu-north-1"),
        ("EU (Milan)", "eu-south-1"),
        ("EU (Spain)", "eu-south-2"),
        ("Asia Pacific (Tokyo)", "ap-northeast-1"),
        ("Asia Pacific (Seoul)", "ap-northeast-2"),
        ("Asia Pacific (Osaka)", "ap-northeast-3"),
        ("Asia Pacific (Singapore)", "ap-southeast-1"),
        ("Asia Pacific (Sydney)", "ap-southeast-2"),
        ("Asia Pacific (Jakarta)", "ap-southeast-3"),
        ("Asia Pacific (Melbourne)", "ap-southeast-4"),
        ("Asia Pacific (Mumbai)", "ap-south-1"),
        ("Asia Pacific (Hyderabad)", "ap-south-2"),
        ("Asia Pacific (Hong Kong)", "ap-east-1"),
        ("South America (Sao Paulo)", "sa-east-1"),
        ("Middle East (Bahrain)", "me-south-1"),
        ("Middle East (UAE)", "me-central-1"),
        ("Africa (Cape Town)", "af-south-1"),
        ("Israel (Tel Aviv)", "il-central-1"),
        ("Mexico (Central)", "mx-central-1"),
    ];
    NAMES
        .iter()
        .find(|(name, _)| *name == location)
        .map(|(_, code)| *code)
}

/// The date part of a publication timestamp ("2026-11-01T18:02:11Z").
fn publication_date(text: &str) -> String {
    text.get(..10)
        .filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
        .unwrap_or("")
        .to_string()
}

fn first_byte(reader: &mut impl std::io::BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        let Some(pos) = buf.iter().position(|b| !b.is_ascii_whitespace()) else {
            if buf.is_empty() {
                return Ok(None);
            }
            let n = buf.len();
            reader.consume(n);
            continue;
        };
        // A UTF-8 byte-order mark is skipped.
        if buf[pos..].starts_with(&[0xEF, 0xBB, 0xBF]) {
            reader.consume(pos + 3);
            continue;
        }
        let b = buf[pos];
        reader.consume(pos);
        return Ok(Some(b));
    }
}

/// A reader that reports how far it has read, every MiB.
struct Counting<'p, R> {
    inner: R,
    read: u64,
    reported: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= 1 << 20 || n == 0 {
            self.reported = self.read;
            (self.progress)(self.read);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
