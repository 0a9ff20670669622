//! The rates a scope can buy at, from the price catalog.

use super::*;

/// The catalog's rate ratio of an offer, term and payment for a type in a
/// region, for every option the catalog has.
pub fn rates_for(catalog: &PriceCatalog, instance_type: &str, region: &str, offer: Offer) -> Rates {
    let mut out = Vec::new();
    for term in [1, 3] {
        for payment in Payment::ALL {
            if let Some(r) = catalog.rate_ratio(instance_type, region, offer, term, payment) {
                out.push((term, payment, r));
            }
        }
    }
    out
}

/// Compute Savings Plan rate ratios: weighted by where and on what the
/// fleet runs (instance-hours × on-demand price).
pub fn compute_rates(catalog: &PriceCatalog, families: &[FamilyUsage]) -> Rates {
    let mut out = Vec::new();
    for term in [1, 3] {
        for payment in Payment::ALL {
            let (mut num, mut den) = (0.0, 0.0);
            for f in families {
                let w: f64 = f.daily.iter().rev().take(28).map(|(_, v)| v).sum();
                if let Some(r) =
                    catalog.rate_ratio(&f.main_type, &f.region, Offer::ComputeSp, term, payment)
                {
                    num += w * r;
                    den += w;
                }
            }
            if den <= 0.0 {
                // No priced fleet: the catalog's median rate.
                let mut all: Vec<f64> = catalog
                    .prices
                    .iter()
                    .filter(|((s, _, _), _)| s == "ec2")
                    .filter_map(|(_, p)| {
                        p.commitments
                            .get(&(Offer::ComputeSp, term, payment))
                            .map(|c| c.0 as f64 / p.on_demand.0 as f64)
                    })
                    .collect();
                all.sort_by(|a, b| a.total_cmp(b));
                if let Some(m) = all.get(all.len() / 2) {
                    num = *m;
                    den = 1.0;
                }
            }
            if den > 0.0 {
                out.push((term, payment, num / den));
            }
        }
    }
    out
}
