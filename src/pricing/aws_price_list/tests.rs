//! The price list readers on small files in AWS's published layouts
//! (`tests/fixtures/price-list`).

use super::*;
use crate::pricing::{origin_is_derived, Offer};

const EC2_JSON: &str = include_str!("../../../tests/fixtures/price-list/ec2-us-east-1.json");
const EC2_CSV: &str = include_str!("../../../tests/fixtures/price-list/ec2-eu-west-1.csv");
const SP_US: &str = include_str!("../../../tests/fixtures/price-list/savings-plans-us-east-1.json");
const SP_EU: &str = include_str!("../../../tests/fixtures/price-list/savings-plans-eu-west-1.json");

fn key(t: &str, r: &str) -> (String, String) {
    (t.to_string(), r.to_string())
}

fn read(list: &mut PriceList, name: &str, text: &str) -> Result<ListFile, PriceListError> {
    list.read(name, text.as_bytes(), &mut |_| {}).cloned()
}

fn rate(list: &PriceList, t: &str, r: &str, offer: Offer, years: i32, payment: Payment) -> i64 {
    list.commitments[&key(t, r)][&(offer, years, payment)]
        .hourly
        .0
}

#[test]
fn the_ec2_offer_json_keeps_linux_shared_instance_hours_and_standard_reserved_rates() {
    let mut list = PriceList::default();
    let f = read(&mut list, "ec2.json", EC2_JSON).expect("reads");
    assert_eq!(f.kind, ListKind::Ec2Offer);
    assert_eq!(f.origin(), "AWS Price List AmazonEC2, published 2026-11-01");
    // Windows, dedicated, unused-reservation and SQL rows and the EBS
    // volume are not kept: one on-demand price per type.
    assert_eq!(list.on_demand.len(), 2);
    assert_eq!(
        list.on_demand[&key("c6i.4xlarge", "us-east-1")].hourly.0,
        680_000
    );
    assert_eq!(
        list.on_demand[&key("c7gn.medium", "us-east-1")].hourly.0,
        62_400
    );
    // Reserved: no upfront is its hourly fee; all upfront 3504 / 8760 h;
    // 3 years partial 3942 / 26280 h + 0.15; convertible left out.
    let c6i = |y, p| rate(&list, "c6i.4xlarge", "us-east-1", Offer::Reserved, y, p);
    assert_eq!(c6i(1, Payment::NoUpfront), 428_000);
    assert_eq!(c6i(1, Payment::AllUpfront), 400_000);
    assert_eq!(c6i(3, Payment::PartialUpfront), 300_000);
    assert_eq!(list.commitments[&key("c6i.4xlarge", "us-east-1")].len(), 3);
    let spec = &list.types["c7gn.medium"];
    assert_eq!(
        (
            spec.family.as_str(),
            spec.generation,
            spec.vcpu,
            spec.memory_gib
        ),
        ("c7gn", 7, 1.0, 2.0)
    );
    assert_eq!(list.currency.as_deref(), Some("USD"));
}

#[test]
fn the_csv_form_reads_the_same_prices_as_the_json_form() {
    let mut list = PriceList::default();
    let f = read(&mut list, "ec2.csv", EC2_CSV).expect("reads");
    assert_eq!(f.published, "2026-11-01");
    assert_eq!(list.on_demand.len(), 1);
    assert_eq!(
        list.on_demand[&key("m6i.2xlarge", "eu-west-1")].hourly.0,
        428_000
    );
    let m6i = |y, p| rate(&list, "m6i.2xlarge", "eu-west-1", Offer::Reserved, y, p);
    // Upfront fee row 2190 + hourly row 0 → 0.25 an hour.
    assert_eq!(m6i(1, Payment::AllUpfront), 250_000);
    assert_eq!(m6i(3, Payment::NoUpfront), 190_000);
    assert_eq!(list.commitments[&key("m6i.2xlarge", "eu-west-1")].len(), 2);
    assert_eq!(list.types["m6i.2xlarge"].vcpu, 8.0);
    // The same offer in the other form gives the same figures.
    let json = csv_as_json(EC2_CSV);
    let mut again = PriceList::default();
    read(&mut again, "ec2-eu.json", &json).expect("json form reads");
    assert_eq!(
        again.on_demand[&key("m6i.2xlarge", "eu-west-1")].hourly.0,
        428_000
    );
    assert_eq!(
        rate(
            &again,
            "m6i.2xlarge",
            "eu-west-1",
            Offer::Reserved,
            1,
            Payment::AllUpfront
        ),
        250_000
    );
}

/// The EC2 CSV fixture written in the JSON form (products, OnDemand and
/// Reserved terms), the way AWS publishes both forms of one offer.
fn csv_as_json(text: &str) -> String {
    let mut rows = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let records: Vec<::csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    let header = &records[5];
    let col = |r: &::csv::StringRecord, name: &str| {
        let i = header.iter().position(|h| h == name).expect(name);
        r.get(i).unwrap_or("").to_string()
    };
    let mut products = serde_json::Map::new();
    let mut on_demand = serde_json::Map::new();
    let mut reserved: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    for r in &records[6..] {
        let sku = col(r, "SKU");
        products.insert(
            sku.clone(),
            serde_json::json!({
                "sku": sku,
                "productFamily": col(r, "Product Family"),
                "attributes": {
                    "location": col(r, "Location"),
                    "instanceType": col(r, "Instance Type"),
                    "vcpu": col(r, "vCPU"),
                    "memory": col(r, "Memory"),
                    "tenancy": col(r, "Tenancy"),
                    "operatingSystem": col(r, "Operating System"),
                    "licenseModel": col(r, "License Model"),
                    "usagetype": col(r, "usageType"),
                    "operation": col(r, "operation"),
                    "capacitystatus": col(r, "CapacityStatus"),
                    "preInstalledSw": col(r, "Pre Installed S/W"),
                    "regionCode": col(r, "Region Code"),
                }
            }),
        );
        let code = col(r, "OfferTermCode");
        let dimension = serde_json::json!({
            "unit": col(r, "Unit"),
            "pricePerUnit": { col(r, "Currency"): col(r, "PricePerUnit") },
        });
        let target = if col(r, "TermType") == "OnDemand" {
            &mut on_demand
        } else {
            &mut reserved
        };
        let terms = target
            .entry(sku.clone())
            .or_insert_with(|| serde_json::json!({}));
        let term = terms
            .as_object_mut()
            .expect("object")
            .entry(format!("{sku}.{code}"))
            .or_insert_with(|| {
                serde_json::json!({
                    "offerTermCode": code,
                    "sku": sku,
                    "priceDimensions": {},
                    "termAttributes": {
                        "LeaseContractLength": col(r, "LeaseContractLength"),
                        "OfferingClass": col(r, "OfferingClass"),
                        "PurchaseOption": col(r, "PurchaseOption"),
                    }
                })
            });
        term["priceDimensions"]
            .as_object_mut()
            .expect("object")
            .insert(col(r, "RateCode"), dimension);
    }
    serde_json::json!({
        "formatVersion": "v1.0",
        "offerCode": "AmazonEC2",
        "publicationDate": "2026-11-01T18:02:11Z",
        "products": products,
        "terms": { "OnDemand": on_demand, "Reserved": reserved },
    })
    .to_string()
}

#[test]
fn savings_plans_rates_are_kept_for_ec2_linux_shared_box_usage_only() {
    let mut list = PriceList::default();
    let f = read(&mut list, "sp-us.json", SP_US).expect("reads");
    assert_eq!(f.kind, ListKind::SavingsPlans);
    assert_eq!(
        f.origin(),
        "AWS Price List AWSComputeSavingsPlan, published 2026-11-01"
    );
    let c6i = &list.commitments[&key("c6i.4xlarge", "us-east-1")];
    assert_eq!(
        c6i[&(Offer::ComputeSp, 1, Payment::NoUpfront)].hourly.0,
        489_600
    );
    assert_eq!(
        c6i[&(Offer::ComputeSp, 3, Payment::AllUpfront)].hourly.0,
        319_600
    );
    assert_eq!(
        c6i[&(Offer::Ec2InstanceSp, 1, Payment::NoUpfront)].hourly.0,
        421_600
    );
    // Windows, dedicated, Fargate and SageMaker rates are not kept.
    assert_eq!(c6i.len(), 3);
    assert_eq!(list.commitments.len(), 2, "{:?}", list.commitments.keys());
    // A regional file's usage types carry the region's prefix.
    read(&mut list, "sp-eu.json", SP_EU).expect("reads");
    assert_eq!(
        rate(
            &list,
            "m6i.2xlarge",
            "eu-west-1",
            Offer::ComputeSp,
            1,
            Payment::NoUpfront
        ),
        308_200
    );
}

#[test]
fn bad_files_are_named_with_where_they_went_wrong() {
    let mut list = PriceList::default();
    // Cut off mid-way: the JSON error names line and column.
    let cut = &EC2_JSON[..EC2_JSON.len() / 2];
    let e = read(&mut list, "cut.json", cut).unwrap_err().to_string();
    assert!(e.starts_with("cut.json: line "), "{e}");
    assert!(e.contains("column"), "{e}");
    // A price that is not a number: the CSV row and column.
    let bad = EC2_CSV.replace("\"0.4280000000\"", "\"n/a\"");
    let e = read(&mut list, "bad.csv", &bad).unwrap_err().to_string();
    assert_eq!(
        e,
        "bad.csv: line 7, column PricePerUnit: 'n/a' is not a price"
    );
    let bad = EC2_JSON.replace("\"0.6800000000\"", "\"cheap\"");
    let e = read(&mut list, "bad.json", &bad).unwrap_err().to_string();
    assert!(e.contains("'cheap', not a price"), "{e}");
    // Another service's offer, the Savings Plans CSV form, not a price list.
    let rds = EC2_CSV.replace("\"OfferCode\",\"AmazonEC2\"", "\"OfferCode\",\"AmazonRDS\"");
    let e = read(&mut list, "rds.csv", &rds).unwrap_err().to_string();
    assert!(e.contains("AmazonRDS offer"), "{e}");
    let sp_csv = "\"FormatVersion\",\"v1.0\"\n\"SKU\",\"RateCode\",\"Unit\",\"EffectiveDate\",\"DiscountedRate\",\"Currency\"\n";
    let e = read(&mut list, "sp.csv", sp_csv).unwrap_err().to_string();
    assert!(e.contains("import its JSON form"), "{e}");
    let e = read(&mut list, "x.txt", "hello").unwrap_err().to_string();
    assert!(e.contains("not an AWS Price List file"), "{e}");
    let e = read(&mut list, "empty.json", "  \n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("the file is empty"), "{e}");
    // A well-formed file with nothing to keep.
    let storage_only = r#"{"offerCode":"AmazonEC2","publicationDate":"2026-11-01T00:00:00Z","products":{"S":{"sku":"S","productFamily":"Storage","attributes":{}}},"terms":{"OnDemand":{}}}"#;
    let e = read(&mut list, "ebs.json", storage_only)
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds no Linux, shared-tenancy EC2"), "{e}");
    // Nothing was added by the refused files.
    assert!(list.files.is_empty() && list.on_demand.is_empty());
}

#[test]
fn terms_before_products_are_read_too() {
    let v: serde_json::Value = serde_json::from_str(EC2_JSON).expect("json");
    let reordered = format!(
        "{{\"offerCode\":\"AmazonEC2\",\"terms\":{},\"products\":{}}}",
        v["terms"], v["products"]
    );
    let mut list = PriceList::default();
    read(&mut list, "reordered.json", &reordered).expect("reads");
    assert_eq!(
        list.on_demand[&key("c6i.4xlarge", "us-east-1")].hourly.0,
        680_000
    );
    assert_eq!(
        rate(
            &list,
            "c6i.4xlarge",
            "us-east-1",
            Offer::Reserved,
            1,
            Payment::AllUpfront
        ),
        400_000
    );
}

#[test]
fn a_price_list_over_the_built_in_catalog_says_where_each_price_came_from() {
    let mut list = PriceList::default();
    for (name, text) in [
        ("ec2.json", EC2_JSON),
        ("ec2.csv", EC2_CSV),
        ("sp-us.json", SP_US),
        ("sp-eu.json", SP_EU),
    ] {
        read(&mut list, name, text).expect(name);
    }
    let built_in = crate::pricing::built_in();
    let before = built_in
        .prices("ec2", "c6i.4xlarge", "us-east-1")
        .expect("priced")
        .clone();
    let (catalog, merge) = built_in.with_price_list(&list);
    assert_eq!(merge.on_demand, 3);
    assert_eq!(merge.added, 1, "c7gn.medium is new");
    let p = catalog
        .prices("ec2", "c6i.4xlarge", "us-east-1")
        .expect("c6i");
    assert_eq!(p.on_demand.0, 680_000);
    assert_eq!(
        p.on_demand_origin,
        "AWS Price List AmazonEC2, published 2026-11-01"
    );
    let sp = (Offer::ComputeSp, 1, Payment::NoUpfront);
    assert_eq!(p.commitments[&sp].0, 489_600);
    assert_eq!(
        p.commitment_origins[&sp],
        "AWS Price List AWSComputeSavingsPlan, published 2026-11-01"
    );
    // A rate the list does not give keeps the built-in discount, and says so.
    let other = (Offer::Ec2InstanceSp, 3, Payment::AllUpfront);
    let ratio_before = before.commitments[&other].0 as f64 / before.on_demand.0 as f64;
    let ratio_after = p.commitments[&other].0 as f64 / p.on_demand.0 as f64;
    assert!((ratio_before - ratio_after).abs() < 1e-5);
    assert!(origin_is_derived(&p.commitment_origins[&other]));
    assert!(p.commitment_origins[&other].contains("price list's on-demand price"));
    // The new type has only what the list gives.
    let new = catalog
        .prices("ec2", "c7gn.medium", "us-east-1")
        .expect("new");
    assert_eq!(new.commitments.len(), 1);
    assert_eq!(
        catalog.spec("ec2", "c7gn.medium").map(|s| s.vcpu),
        Some(1.0)
    );
    // A plan priced on Compute SP rates the list gave is not derived; one
    // on rates it did not give is.
    let listed = catalog.sources_for([("c6i.4xlarge", "us-east-1")], |k| *k == sp);
    assert!(!listed.derived(), "{listed:?}");
    assert_eq!(
        listed.describe(),
        "on demand: AWS Price List AmazonEC2, published 2026-11-01; commitment rates: AWS Price List AWSComputeSavingsPlan, published 2026-11-01"
    );
    let ri = catalog.sources_for([("c6i.4xlarge", "us-east-1")], |k| *k == other);
    assert!(
        ri.derived(),
        "3-year EC2 Instance SP rates are not in the list"
    );
    let any_sp = catalog.sources_for([("c6i.4xlarge", "us-east-1")], |k| k.0 == Offer::ComputeSp);
    assert!(
        any_sp.derived(),
        "some Compute SP options are not in the list"
    );
}
