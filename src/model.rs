//! Records the layers hand each other: what an importer or a pull produces
//! and the storage layer stores. Plain data, no behaviour that needs the
//! database (so `db` may import it without pointing upwards).

use chrono::NaiveDate;

use crate::money::Micros;
use crate::usage_class::UsageClass;

/// Imported cost at the resource × day grain, before allocation.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDay {
    pub day: NaiveDate,
    pub billing_period: String,
    pub billing_account: String,
    pub provider: String,
    pub account_id: String,
    pub region: String,
    pub service: String,
    pub charge_category: String,
    pub currency: String,
    pub resource: String,
    /// JSON object text; empty when the charge has no tags.
    pub tags: String,
    pub billed: Micros,
    pub effective: Micros,
    pub list: Option<Micros>,
    pub usage_quantity: Option<f64>,
    pub usage_unit: Option<String>,
    /// What the line is, for commitments (from its usage type or
    /// description, per line).
    pub usage_class: UsageClass,
    /// EC2 instance hours: the instance type (`m5.large`); else empty.
    pub instance_type: String,
    /// The commitment discount that applied (empty when none): id, type
    /// (`Savings Plan`, `Reserved Instance`, …) and status (`Used`,
    /// `Unused`).
    pub commitment_id: String,
    pub commitment_type: String,
    pub commitment_status: String,
    /// The commitment's last day (`YYYY-MM-DD`) where the bill says it;
    /// else empty.
    pub commitment_end: String,
}

/// How a run ended, as stored.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
        }
    }

    pub fn of(text: &str) -> Status {
        if text == Status::Ok.as_str() {
            Status::Ok
        } else {
            Status::Failed
        }
    }
}
