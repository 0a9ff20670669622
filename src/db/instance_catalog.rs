//! The stored instance catalog (types and prices), replaced as a whole by
//! `finops catalog import`.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::schema::{instance_prices, instance_types};
use super::{DbConnection, DbError};
use crate::money::Micros;
use crate::pricing::{Offer, Payment, PriceCatalog, RegionPrices, TypeSpec};

#[derive(Insertable, Queryable)]
#[diesel(table_name = instance_types)]
struct TypeRow {
    service: String,
    instance_type: String,
    family: String,
    generation: i32,
    vcpu: f64,
    memory_gib: f64,
}

#[derive(Insertable, Queryable)]
#[diesel(table_name = instance_prices)]
struct PriceRow {
    service: String,
    instance_type: String,
    region: String,
    offer: String,
    term_years: i32,
    payment: String,
    currency: String,
    hourly_micros: i64,
    origin: String,
}

/// Replaces the stored catalog with `catalog`. Call inside a transaction.
pub fn replace(conn: &mut DbConnection, catalog: &PriceCatalog) -> Result<usize, DbError> {
    diesel::delete(instance_prices::table).execute(conn)?;
    diesel::delete(instance_types::table).execute(conn)?;
    let types: Vec<TypeRow> = catalog
        .types
        .values()
        .map(|t| TypeRow {
            service: t.service.clone(),
            instance_type: t.instance_type.clone(),
            family: t.family.clone(),
            generation: t.generation,
            vcpu: t.vcpu,
            memory_gib: t.memory_gib,
        })
        .collect();
    let mut prices = Vec::new();
    for ((service, instance_type, region), p) in &catalog.prices {
        let row = |offer: &str, term: i32, payment: &str, m: Micros, origin: &str| PriceRow {
            service: service.clone(),
            instance_type: instance_type.clone(),
            region: region.clone(),
            offer: offer.to_string(),
            term_years: term,
            payment: payment.to_string(),
            currency: p.currency.clone(),
            hourly_micros: m.0,
            origin: origin.to_string(),
        };
        prices.push(row("on_demand", 0, "", p.on_demand, &p.on_demand_origin));
        for (key, m) in &p.commitments {
            let (offer, term, payment) = key;
            let origin = p.commitment_origins.get(key).map_or("", String::as_str);
            prices.push(row(offer.as_str(), *term, payment.as_str(), *m, origin));
        }
    }
    for chunk in types.chunks(500) {
        crate::with_backend!(conn, |c| diesel::insert_into(instance_types::table)
            .values(chunk)
            .execute(c))?;
    }
    for chunk in prices.chunks(500) {
        crate::with_backend!(conn, |c| diesel::insert_into(instance_prices::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(prices.len())
}

/// The catalog last imported (named by its import), or the built-in one:
/// before the bill's rates are laid over it.
pub fn stored_or_built_in(conn: &mut DbConnection) -> Result<PriceCatalog, DbError> {
    let Some(run) =
        super::ingest_runs::latest_succeeded_of(conn, crate::runs::Source::Catalog.as_str())?
    else {
        return Ok(crate::pricing::built_in());
    };
    Ok(load(conn, &run.file_name)?.unwrap_or_else(crate::pricing::built_in))
}

/// The stored catalog, or `None` when none was imported.
pub fn load(conn: &mut DbConnection, source: &str) -> Result<Option<PriceCatalog>, DbError> {
    let types: Vec<TypeRow> = instance_types::table
        .select((
            instance_types::service,
            instance_types::instance_type,
            instance_types::family,
            instance_types::generation,
            instance_types::vcpu,
            instance_types::memory_gib,
        ))
        .load(conn)?;
    if types.is_empty() {
        return Ok(None);
    }
    let rows: Vec<PriceRow> = instance_prices::table
        .select((
            instance_prices::service,
            instance_prices::instance_type,
            instance_prices::region,
            instance_prices::offer,
            instance_prices::term_years,
            instance_prices::payment,
            instance_prices::currency,
            instance_prices::hourly_micros,
            instance_prices::origin,
        ))
        .load(conn)?;
    let mut catalog = PriceCatalog {
        source: source.to_string(),
        ..PriceCatalog::default()
    };
    for t in types {
        catalog.types.insert(
            (t.service.clone(), t.instance_type.clone()),
            TypeSpec {
                service: t.service,
                instance_type: t.instance_type,
                family: t.family,
                generation: t.generation,
                vcpu: t.vcpu,
                memory_gib: t.memory_gib,
            },
        );
    }
    let mut prices: BTreeMap<(String, String, String), RegionPrices> = BTreeMap::new();
    for r in rows {
        let entry = prices
            .entry((r.service, r.instance_type, r.region))
            .or_default();
        entry.currency = r.currency;
        if r.offer == "on_demand" {
            entry.on_demand = Micros(r.hourly_micros);
            entry.on_demand_origin = r.origin;
        } else if let (Some(offer), Some(payment)) =
            (Offer::parse(&r.offer), Payment::parse(&r.payment))
        {
            let key = (offer, r.term_years, payment);
            entry.commitments.insert(key, Micros(r.hourly_micros));
            if !r.origin.is_empty() {
                entry.commitment_origins.insert(key, r.origin);
            }
        }
    }
    catalog.prices = prices;
    catalog.fill_origins();
    Ok(Some(catalog))
}
