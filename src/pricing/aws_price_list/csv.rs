//! The CSV form of an EC2 offer file: five metadata rows ("FormatVersion",
//! "Disclaimer", "Publication Date", "Version", "OfferCode"), a header row
//! starting with "SKU", then one row per price dimension, each carrying
//! its product's attributes. Read row by row; a Reserved Instance's
//! upfront fee and hourly fee are two rows of one offer term.

use std::collections::HashMap;
use std::io::Read;

use super::{
    lease_years, publication_date, purchase_option, region_of_location, spread_upfront, type_spec,
    ListKind, PriceListError, ProductFilter, Read1,
};
use crate::money::Micros;
use crate::pricing::{Offer, Payment};

/// The columns read, by their names in AWS's header.
struct Columns {
    sku: usize,
    offer_term_code: Option<usize>,
    term_type: usize,
    unit: usize,
    price: usize,
    currency: usize,
    lease: Option<usize>,
    purchase_option: Option<usize>,
    offering_class: Option<usize>,
    product_family: usize,
    instance_type: usize,
    vcpu: Option<usize>,
    memory: Option<usize>,
    tenancy: usize,
    operating_system: usize,
    license_model: Option<usize>,
    pre_installed_sw: Option<usize>,
    capacity_status: Option<usize>,
    operation: Option<usize>,
    usage_type: Option<usize>,
    market_option: Option<usize>,
    region_code: Option<usize>,
    location: Option<usize>,
}

impl Columns {
    fn find(file: &str, header: &csv::StringRecord) -> Result<Columns, PriceListError> {
        let names: Vec<&str> = header.iter().map(str::trim).collect();
        let optional = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
        if optional("DiscountedRate").is_some() {
            return Err(PriceListError::Unsupported {
                file: file.to_string(),
                reason: "this is a Savings Plans rate file in CSV form; import its JSON form (the same address ending in index.json)".to_string(),
            });
        }
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            optional(name).unwrap_or_else(|| {
                missing.push(name);
                0
            })
        };
        let c = Columns {
            sku: required("SKU"),
            term_type: required("TermType"),
            unit: required("Unit"),
            price: required("PricePerUnit"),
            currency: required("Currency"),
            product_family: required("Product Family"),
            instance_type: required("Instance Type"),
            tenancy: required("Tenancy"),
            operating_system: required("Operating System"),
            offer_term_code: optional("OfferTermCode"),
            lease: optional("LeaseContractLength"),
            purchase_option: optional("PurchaseOption"),
            offering_class: optional("OfferingClass"),
            vcpu: optional("vCPU"),
            memory: optional("Memory"),
            license_model: optional("License Model"),
            pre_installed_sw: optional("Pre Installed S/W"),
            capacity_status: optional("CapacityStatus"),
            operation: optional("operation"),
            usage_type: optional("usageType"),
            market_option: optional("MarketOption"),
            region_code: optional("Region Code"),
            location: optional("Location"),
        };
        if !missing.is_empty() {
            return Err(PriceListError::NotAPriceList {
                file: file.to_string(),
                reason: format!(
                    "the header row has no column {} (an EC2 offer file's CSV form has them)",
                    missing.join(", ")
                ),
            });
        }
        if c.region_code.is_none() && c.location.is_none() {
            return Err(PriceListError::NotAPriceList {
                file: file.to_string(),
                reason: "the header row has neither Region Code nor Location".to_string(),
            });
        }
        Ok(c)
    }
}

/// A Reserved Instance offer term being added up from its rows.
struct Reserved {
    itype: String,
    region: String,
    years: i32,
    payment: Payment,
    upfront: i64,
    hourly: i64,
}

pub(super) fn read(file: &str, reader: impl Read) -> Result<Read1, PriceListError> {
    let mut out = Read1::new(file, ListKind::Ec2Offer);
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        PriceListError::Cell {
            file: file.to_string(),
            line,
            column: "-".to_string(),
            reason: e.to_string(),
        }
    };
    let mut record = csv::StringRecord::new();
    // Metadata rows, then the header.
    let columns = loop {
        if !rows.read_record(&mut record).map_err(csv_error)? {
            return Err(PriceListError::NotAPriceList {
                file: file.to_string(),
                reason: "no header row starting with \"SKU\"".to_string(),
            });
        }
        match record.get(0).map(str::trim) {
            Some("SKU") => break Columns::find(file, &record)?,
            Some("OfferCode") => out.meta.offer_code = record.get(1).unwrap_or("").to_string(),
            Some("Publication Date") => {
                out.meta.published = publication_date(record.get(1).unwrap_or(""));
            }
            _ => {}
        }
        if record.position().map_or(0, |p| p.line()) > 20 {
            return Err(PriceListError::NotAPriceList {
                file: file.to_string(),
                reason: "no header row starting with \"SKU\" in its first 20 lines".to_string(),
            });
        }
    };
    if !out.meta.offer_code.is_empty() && out.meta.offer_code != "AmazonEC2" {
        return Err(PriceListError::Unsupported {
            file: file.to_string(),
            reason: format!(
                "it is the {} offer; finops reads the AmazonEC2 offer and the Savings Plans rate files",
                out.meta.offer_code
            ),
        });
    }
    if out.meta.offer_code.is_empty() {
        out.meta.offer_code = "AmazonEC2".to_string();
    }
    let mut reserved: HashMap<(String, String), Reserved> = HashMap::new();
    while rows.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| record.get(i).unwrap_or("").trim();
        let opt = |i: Option<usize>| i.map_or("", cell);
        let filter = ProductFilter {
            product_family: cell(columns.product_family),
            tenancy: cell(columns.tenancy),
            operating_system: cell(columns.operating_system),
            license_model: opt(columns.license_model),
            pre_installed_sw: opt(columns.pre_installed_sw),
            capacity_status: opt(columns.capacity_status),
            operation: opt(columns.operation),
            usage_type: opt(columns.usage_type),
            market_option: opt(columns.market_option),
        };
        let itype = cell(columns.instance_type);
        if !filter.is_linux_shared_instance_hour() || itype.is_empty() {
            continue;
        }
        let bad = |column: &str, reason: String| PriceListError::Cell {
            file: file.to_string(),
            line,
            column: column.to_string(),
            reason,
        };
        let region = match opt(columns.region_code) {
            "" => region_of_location(opt(columns.location))
                .ok_or_else(|| {
                    bad(
                        "Location",
                        format!(
                            "'{}' is not a known region and the row has no Region Code",
                            opt(columns.location)
                        ),
                    )
                })?
                .to_string(),
            code => code.to_string(),
        };
        let text = cell(columns.price);
        let price = Micros::parse(text)
            .ok()
            .filter(|m| m.0 >= 0)
            .ok_or_else(|| bad("PricePerUnit", format!("'{text}' is not a price")))?;
        let currency = cell(columns.currency);
        if let Some(spec) = type_spec(itype, opt(columns.vcpu), opt(columns.memory)) {
            out.types.entry(itype.to_string()).or_insert(spec);
        }
        let unit = cell(columns.unit);
        match cell(columns.term_type) {
            "OnDemand" if unit == "Hrs" => {
                out.currency(currency).map_err(|r| bad("Currency", r))?;
                out.on_demand.insert((itype.to_string(), region), price);
            }
            "Reserved" if opt(columns.offering_class) == "standard" => {
                let (Some(years), Some(payment)) = (
                    lease_years(opt(columns.lease)),
                    purchase_option(opt(columns.purchase_option)),
                ) else {
                    continue;
                };
                out.currency(currency).map_err(|r| bad("Currency", r))?;
                let code = match columns.offer_term_code.map(cell) {
                    Some(c) if !c.is_empty() => c.to_string(),
                    _ => format!("{years}{}", payment.as_str()),
                };
                let entry = reserved
                    .entry((cell(columns.sku).to_string(), code))
                    .or_insert_with(|| Reserved {
                        itype: itype.to_string(),
                        region: region.clone(),
                        years,
                        payment,
                        upfront: 0,
                        hourly: 0,
                    });
                match unit {
                    "Hrs" => entry.hourly += price.0,
                    "Quantity" => entry.upfront += price.0,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for r in reserved.into_values() {
        let rate = r.hourly + spread_upfront(r.upfront, r.years);
        out.commitments
            .entry((r.itype, r.region))
            .or_default()
            .insert((Offer::Reserved, r.years, r.payment), Micros(rate));
    }
    Ok(out)
}
