//! The JSON forms: an EC2 offer file (`products` is an object keyed by
//! SKU; `terms.OnDemand` and `terms.Reserved` map SKU → offer term →
//! price dimensions) and a Savings Plans rate file (`products` is an
//! array of plans; `terms.savingsPlan` lists each plan's rates per
//! discounted usage type).
//!
//! serde walks the file one entry at a time: a product, a term or a rate
//! is read, kept if it prices a Linux shared-tenancy instance hour, and
//! dropped. Nothing else of the file is held.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{
    lease_years, publication_date, purchase_option, region_of_location, spread_upfront, type_spec,
    ListKind, PriceListError, ProductFilter, Read1,
};
use crate::money::Micros;
use crate::pricing::{Offer, Payment};

pub(super) fn read(file: &str, reader: impl Read) -> Result<Read1, PriceListError> {
    let mut state = State::new(file);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let located = |e: serde_json::Error| PriceListError::Json {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    };
    Top(&mut state).deserialize(&mut de).map_err(located)?;
    de.end().map_err(located)?;
    state.finish()
}

/// serde_json's message without its own " at line L column C" (the error
/// names them once).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[derive(Clone, Debug)]
enum TermPrice {
    OnDemand(Micros, String),
    Reserved {
        years: i32,
        payment: Payment,
        hourly: Micros,
        currency: String,
    },
}

struct State {
    out: Read1,
    region_code: Option<String>,
    kind: Option<ListKind>,
    products_seen: bool,
    /// EC2 products kept: SKU → (instance type, region).
    products: HashMap<String, (String, String)>,
    /// Terms read before their products (a file in an unusual order).
    pending: Vec<(String, TermPrice)>,
    /// Savings Plans: plan SKU → (offer, term years if the product says, payment).
    plans: HashMap<String, (Offer, Option<i32>, Payment)>,
    /// Savings Plans rates kept: (plan SKU, lease years, type, region or
    /// none yet, rate, currency).
    rates: Vec<PlanRate>,
}

/// A Savings Plans rate kept: plan SKU, lease years, instance type, region
/// (if the rate names one), rate, currency.
type PlanRate = (String, Option<i32>, String, Option<String>, Micros, String);

impl State {
    fn new(file: &str) -> State {
        State {
            out: Read1::new(file, ListKind::Ec2Offer),
            region_code: None,
            kind: None,
            products_seen: false,
            products: HashMap::new(),
            pending: Vec::new(),
            plans: HashMap::new(),
            rates: Vec::new(),
        }
    }

    fn set_kind(&mut self, kind: ListKind) -> Result<(), String> {
        match self.kind {
            Some(k) if k != kind => {
                Err("the file mixes an EC2 offer's products with Savings Plans terms".to_string())
            }
            _ => {
                self.kind = Some(kind);
                self.out.meta.kind = kind;
                Ok(())
            }
        }
    }

    fn add_product(&mut self, sku: String, p: Ec2Product) -> Result<(), String> {
        let a = &p.attributes;
        let filter = ProductFilter {
            product_family: &p.product_family,
            tenancy: &a.tenancy,
            operating_system: &a.operating_system,
            license_model: &a.license_model,
            pre_installed_sw: &a.pre_installed_sw,
            capacity_status: &a.capacity_status,
            operation: &a.operation,
            usage_type: &a.usage_type,
            market_option: &a.market_option,
        };
        if !filter.is_linux_shared_instance_hour() || a.instance_type.is_empty() {
            return Ok(());
        }
        let region = if !a.region_code.is_empty() {
            a.region_code.clone()
        } else if let Some(code) = region_of_location(&a.location) {
            code.to_string()
        } else {
            return Err(format!(
                "product {sku} ({}) names no regionCode and its location '{}' is not a known region",
                a.instance_type, a.location
            ));
        };
        if let Some(spec) = type_spec(&a.instance_type, &a.vcpu, &a.memory) {
            self.out.types.insert(a.instance_type.clone(), spec);
        }
        self.products.insert(sku, (a.instance_type.clone(), region));
        Ok(())
    }

    fn wants(&self, sku: &str) -> bool {
        !self.products_seen || self.products.contains_key(sku)
    }

    fn add_term(&mut self, sku: &str, price: TermPrice) -> Result<(), String> {
        if !self.products_seen {
            self.pending.push((sku.to_string(), price));
            return Ok(());
        }
        let Some((itype, region)) = self.products.get(sku).cloned() else {
            return Ok(());
        };
        let key = (itype, region);
        match price {
            TermPrice::OnDemand(m, currency) => {
                self.out.currency(&currency)?;
                self.out.on_demand.insert(key, m);
            }
            TermPrice::Reserved {
                years,
                payment,
                hourly,
                currency,
            } => {
                self.out.currency(&currency)?;
                self.out
                    .commitments
                    .entry(key)
                    .or_default()
                    .insert((Offer::Reserved, years, payment), hourly);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Read1, PriceListError> {
        let file = self.out.meta.file.clone();
        let fail = |reason: String| PriceListError::NotAPriceList {
            file: file.clone(),
            reason,
        };
        match self.kind {
            None => {
                return Err(fail(
                    "it has no products (neither an EC2 offer file nor a Savings Plans rate file)"
                        .to_string(),
                ))
            }
            Some(ListKind::Ec2Offer) => {
                if self.out.meta.offer_code.is_empty() {
                    self.out.meta.offer_code = "AmazonEC2".to_string();
                } else if self.out.meta.offer_code != "AmazonEC2" {
                    return Err(PriceListError::Unsupported {
                        file: file.clone(),
                        reason: format!(
                            "it is the {} offer; finops reads the AmazonEC2 offer and the Savings Plans rate files",
                            self.out.meta.offer_code
                        ),
                    });
                }
                self.products_seen = true;
                for (sku, price) in std::mem::take(&mut self.pending) {
                    self.add_term(&sku, price).map_err(|r| fail(r.clone()))?;
                }
            }
            Some(ListKind::SavingsPlans) => {
                if self.out.meta.offer_code.is_empty() {
                    self.out.meta.offer_code = "AWSComputeSavingsPlan".to_string();
                }
                for (sku, lease, itype, region, rate, currency) in std::mem::take(&mut self.rates) {
                    let Some(&(offer, product_years, payment)) = self.plans.get(&sku) else {
                        continue;
                    };
                    let Some(years) = product_years.or(lease) else {
                        return Err(fail(format!(
                            "Savings Plan {sku} gives no term length (purchaseTerm or leaseContractLength)"
                        )));
                    };
                    let Some(region) = region.or_else(|| self.region_code.clone()) else {
                        return Err(fail(format!(
                            "a rate of Savings Plan {sku} names no region (discountedRegionCode, or the file's regionCode)"
                        )));
                    };
                    self.out.currency(&currency).map_err(fail)?;
                    self.out
                        .commitments
                        .entry((itype, region))
                        .or_default()
                        .insert((offer, years, payment), rate);
                }
            }
        }
        Ok(self.out)
    }
}

#[derive(Deserialize)]
struct Ec2Product {
    #[serde(rename = "productFamily", default)]
    product_family: String,
    #[serde(default)]
    attributes: Ec2Attributes,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Ec2Attributes {
    #[serde(rename = "instanceType")]
    instance_type: String,
    vcpu: String,
    memory: String,
    tenancy: String,
    #[serde(rename = "operatingSystem")]
    operating_system: String,
    #[serde(rename = "licenseModel")]
    license_model: String,
    #[serde(rename = "preInstalledSw")]
    pre_installed_sw: String,
    #[serde(rename = "capacitystatus")]
    capacity_status: String,
    operation: String,
    #[serde(rename = "usagetype")]
    usage_type: String,
    #[serde(rename = "marketoption")]
    market_option: String,
    #[serde(rename = "regionCode")]
    region_code: String,
    location: String,
}

#[derive(Deserialize)]
struct Term {
    #[serde(rename = "priceDimensions", default)]
    price_dimensions: BTreeMap<String, Dimension>,
    #[serde(rename = "termAttributes", default)]
    term_attributes: TermAttributes,
}

#[derive(Deserialize)]
struct Dimension {
    #[serde(default)]
    unit: String,
    #[serde(rename = "pricePerUnit", default)]
    price_per_unit: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TermAttributes {
    #[serde(rename = "LeaseContractLength")]
    lease: String,
    #[serde(rename = "OfferingClass")]
    class: String,
    #[serde(rename = "PurchaseOption")]
    option: String,
}

/// A dimension's price and currency.
fn dimension_price(sku: &str, d: &Dimension) -> Result<(Micros, String), String> {
    let Some((currency, text)) = d.price_per_unit.iter().next() else {
        return Err(format!("a price of {sku} has no pricePerUnit"));
    };
    let m = Micros::parse(text)
        .ok()
        .filter(|m| m.0 >= 0)
        .ok_or_else(|| format!("a price of {sku} is '{text}', not a price"))?;
    Ok((m, currency.clone()))
}

/// The price a term gives an instance hour, if it is one finops prices
/// with: on demand, or a standard Reserved Instance (its upfront fee spread
/// over the term's hours plus its hourly fee).
fn term_price(sku: &str, term: &Term, reserved: bool) -> Result<Option<TermPrice>, String> {
    if !reserved {
        for d in term.price_dimensions.values() {
            if d.unit == "Hrs" {
                let (m, currency) = dimension_price(sku, d)?;
                return Ok(Some(TermPrice::OnDemand(m, currency)));
            }
        }
        return Ok(None);
    }
    let a = &term.term_attributes;
    if a.class != "standard" {
        return Ok(None);
    }
    let (Some(years), Some(payment)) = (lease_years(&a.lease), purchase_option(&a.option)) else {
        return Ok(None);
    };
    let (mut upfront, mut hourly, mut currency) = (0_i64, 0_i64, String::new());
    for d in term.price_dimensions.values() {
        let (m, c) = dimension_price(sku, d)?;
        currency = c;
        match d.unit.as_str() {
            "Hrs" => hourly += m.0,
            "Quantity" => upfront += m.0,
            _ => {}
        }
    }
    Ok(Some(TermPrice::Reserved {
        years,
        payment,
        hourly: Micros(hourly + spread_upfront(upfront, years)),
        currency,
    }))
}

struct Top<'a>(&'a mut State);

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AWS Price List offer object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "offerCode" => self.0.out.meta.offer_code = map.next_value()?,
                "publicationDate" => {
                    let text: String = map.next_value()?;
                    self.0.out.meta.published = publication_date(&text);
                }
                "regionCode" => self.0.region_code = Some(map.next_value()?),
                "products" => map.next_value_seed(Products(&mut *self.0))?,
                "terms" => map.next_value_seed(Terms(&mut *self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Products<'a>(&'a mut State);

impl<'de> DeserializeSeed<'de> for Products<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Products<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("products: an object keyed by SKU (EC2) or an array (Savings Plans)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0
            .set_kind(ListKind::Ec2Offer)
            .map_err(de::Error::custom)?;
        while let Some(sku) = map.next_key::<String>()? {
            let product: Ec2Product = map.next_value()?;
            self.0
                .add_product(sku, product)
                .map_err(de::Error::custom)?;
        }
        self.0.products_seen = true;
        let pending = std::mem::take(&mut self.0.pending);
        for (sku, price) in pending {
            self.0.add_term(&sku, price).map_err(de::Error::custom)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0
            .set_kind(ListKind::SavingsPlans)
            .map_err(de::Error::custom)?;
        while let Some(p) = seq.next_element::<PlanProduct>()? {
            let offer = match p.product_family.as_str() {
                "ComputeSavingsPlans" => Offer::ComputeSp,
                "EC2InstanceSavingsPlans" => Offer::Ec2InstanceSp,
                _ => continue,
            };
            let Some(payment) = purchase_option(&p.attributes.purchase_option) else {
                continue;
            };
            let years = lease_years(&p.attributes.purchase_term);
            self.0.plans.insert(p.sku, (offer, years, payment));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct PlanProduct {
    sku: String,
    #[serde(rename = "productFamily", default)]
    product_family: String,
    #[serde(default)]
    attributes: PlanAttributes,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PlanAttributes {
    #[serde(rename = "purchaseOption")]
    purchase_option: String,
    #[serde(rename = "purchaseTerm")]
    purchase_term: String,
}

struct Terms<'a>(&'a mut State);

impl<'de> DeserializeSeed<'de> for Terms<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Terms<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("terms: an object of term types")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "OnDemand" => map.next_value_seed(SkuTerms {
                    state: &mut *self.0,
                    reserved: false,
                })?,
                "Reserved" => map.next_value_seed(SkuTerms {
                    state: &mut *self.0,
                    reserved: true,
                })?,
                "savingsPlan" => {
                    self.0
                        .set_kind(ListKind::SavingsPlans)
                        .map_err(de::Error::custom)?;
                    map.next_value_seed(PlanTerms(&mut *self.0))?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct SkuTerms<'a> {
    state: &'a mut State,
    reserved: bool,
}

impl<'de> DeserializeSeed<'de> for SkuTerms<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SkuTerms<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("terms keyed by SKU")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(sku) = map.next_key::<String>()? {
            if !self.state.wants(&sku) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let terms: BTreeMap<String, Term> = map.next_value()?;
            for term in terms.values() {
                if let Some(price) =
                    term_price(&sku, term, self.reserved).map_err(de::Error::custom)?
                {
                    self.state
                        .add_term(&sku, price)
                        .map_err(de::Error::custom)?;
                }
            }
        }
        Ok(())
    }
}

struct PlanTerms<'a>(&'a mut State);

impl<'de> DeserializeSeed<'de> for PlanTerms<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PlanTerms<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of Savings Plans terms")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(PlanTerm(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

struct PlanTerm<'a>(&'a mut State);

impl<'de> DeserializeSeed<'de> for PlanTerm<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Deserialize)]
struct Lease {
    #[serde(default)]
    duration: serde_json::Value,
    #[serde(default)]
    unit: String,
}

impl<'de> Visitor<'de> for PlanTerm<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Savings Plans term object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut sku = None;
        let mut lease = None;
        let mut kept = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "sku" => sku = Some(map.next_value::<String>()?),
                "leaseContractLength" => {
                    let l: Lease = map.next_value()?;
                    let duration = match &l.duration {
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::String(s) => s.clone(),
                        _ => String::new(),
                    };
                    lease = lease_years(&format!("{duration} {}", l.unit));
                }
                "rates" => map.next_value_seed(Rates(&mut kept))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let sku = sku.ok_or_else(|| de::Error::missing_field("sku"))?;
        for (itype, region, rate, currency) in kept {
            self.0
                .rates
                .push((sku.clone(), lease, itype, region, rate, currency));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Rate {
    #[serde(rename = "discountedUsageType", default)]
    usage_type: String,
    #[serde(rename = "discountedOperation", default)]
    operation: String,
    #[serde(rename = "discountedServiceCode", default)]
    service_code: String,
    #[serde(rename = "discountedRate")]
    rate: RatePrice,
    #[serde(rename = "discountedRegionCode", default)]
    region_code: String,
    #[serde(default)]
    unit: String,
}

#[derive(Deserialize)]
struct RatePrice {
    price: String,
    currency: String,
}

type KeptRate = (String, Option<String>, Micros, String);

struct Rates<'a>(&'a mut Vec<KeptRate>);

impl<'de> DeserializeSeed<'de> for Rates<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rates<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of Savings Plans rates")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(r) = seq.next_element::<Rate>()? {
            if r.service_code != "AmazonEC2" || r.operation != "RunInstances" {
                continue;
            }
            if !r.unit.is_empty() && r.unit != "Hrs" {
                continue;
            }
            // "BoxUsage:c6i.large" in us-east-1, "EUW1-BoxUsage:c6i.large"
            // elsewhere; DedicatedUsage and others are not shared tenancy.
            let usage = r
                .usage_type
                .split_once('-')
                .filter(|(prefix, _)| !prefix.contains(':'))
                .map_or(r.usage_type.as_str(), |(_, rest)| rest);
            let Some(itype) = usage.strip_prefix("BoxUsage:") else {
                continue;
            };
            let rate = Micros::parse(&r.rate.price)
                .ok()
                .filter(|m| m.0 > 0)
                .ok_or_else(|| {
                    de::Error::custom(format!(
                        "the rate of {} is '{}', not a price",
                        r.usage_type, r.rate.price
                    ))
                })?;
            let region = (!r.region_code.is_empty()).then_some(r.region_code);
            self.0
                .push((itype.to_string(), region, rate, r.rate.currency));
        }
        Ok(())
    }
}
