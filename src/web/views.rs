//! Pieces every page shares: the layout data and value formatting.

use chrono::NaiveDate;

use crate::auth::{Identity, Role};
use crate::money::Micros;
use crate::report::{Catalog, Change};

/// Who is looking at a page: what the layout shows about them and which
/// actions their role offers.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The database label shown in the footer: admins only, and never with
    /// a password (empty for everyone else).
    pub database: String,
    /// User name (or `token:NAME`); empty when no one is signed in.
    pub user: String,
    pub role: Option<Role>,
    /// Signed in with a browser session (so a sign-out button is shown).
    pub session: bool,
}

impl Viewer {
    pub fn new(database: &str, identity: Option<&Identity>) -> Viewer {
        Viewer {
            database: if identity.is_some_and(|i| i.may(Role::Admin)) {
                database.to_string()
            } else {
                String::new()
            },
            user: identity.map(|i| i.name.clone()).unwrap_or_default(),
            role: identity.map(|i| i.role),
            session: identity.is_some_and(|i| i.csrf().is_some()),
        }
    }

    pub fn may(&self, role: Role) -> bool {
        self.role.is_some_and(|r| r >= role)
    }
}

/// Data the base layout shows on every page.
#[derive(Clone, Debug)]
pub struct Layout {
    pub title: String,
    /// `overview`, `month`, `costs` or empty.
    pub active: &'static str,
    /// "Data from … to … · USD · SQLite" or similar.
    pub data_note: String,
    /// Which database answers (screen only: not printed).
    pub database: String,
    pub asset_version: &'static str,
    /// Who is signed in (empty on error pages and the login form).
    pub user: String,
    pub role: &'static str,
    /// A browser session: show the sign-out button.
    pub session: bool,
    /// Analyst or admin: imports, exports, calendar edits.
    pub can_edit: bool,
    /// Admin: allocation rules, users, the audit log.
    pub can_admin: bool,
    /// What forms carry as their CSRF token (filled per answer).
    pub csrf: &'static str,
}

impl Layout {
    pub fn new(title: &str, active: &'static str, catalog: &Catalog, viewer: &Viewer) -> Layout {
        let data_note = match (catalog.first_day, catalog.last_day) {
            (Some(first), Some(last)) => format!(
                "Data {} to {} · {}",
                short_date(first),
                short_date(last),
                catalog.currencies.join(", "),
            ),
            _ => "No data yet".to_string(),
        };
        Layout {
            data_note,
            database: viewer.database.clone(),
            user: viewer.user.clone(),
            role: viewer.role.map(Role::as_str).unwrap_or(""),
            session: viewer.session,
            can_edit: viewer.may(Role::Analyst),
            can_admin: viewer.may(Role::Admin),
            ..Layout::plain(title).with_active(active)
        }
    }

    /// For error pages and the login form, which may have no database.
    pub fn plain(title: &str) -> Layout {
        Layout {
            title: title.to_string(),
            active: "",
            data_note: String::new(),
            database: String::new(),
            asset_version: super::assets::version(),
            user: String::new(),
            role: "",
            session: false,
            can_edit: false,
            can_admin: false,
            csrf: super::guard::CSRF_SLOT,
        }
    }

    pub fn with_active(mut self, active: &'static str) -> Layout {
        self.active = active;
        self
    }
}

pub fn money(m: Micros, currency: &str) -> String {
    // Pages write a minus sign, as the change columns do, not a hyphen.
    let text = m.display(currency);
    match text.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}

/// "+$1,234.00" / "−$56.00".
/// An amount that rounds to zero cents is shown as a plain zero.
pub fn signed_money(m: Micros, currency: &str) -> String {
    let cents = m.round_to_cents();
    if cents > 0 {
        format!("+{}", m.display(currency))
    } else if cents < 0 {
        format!("−{}", m.abs().display(currency))
    } else {
        Micros::ZERO.display(currency)
    }
}

/// A change as shown in tables.
#[derive(Clone, Debug)]
pub struct ChangeView {
    pub amount: String,
    pub percent: String,
    /// `up`, `down`, `flat` (CSS class).
    pub direction: &'static str,
}

impl ChangeView {
    /// Nothing to compare with (the first month of data): a dash, neither
    /// up nor down.
    pub fn none() -> ChangeView {
        ChangeView {
            amount: "–".to_string(),
            percent: "–".to_string(),
            direction: "flat",
        }
    }

    pub fn of(change: &Change, currency: &str) -> ChangeView {
        ChangeView {
            amount: signed_money(change.delta, currency),
            percent: change.percent_text(),
            direction: change.direction(),
        }
    }
}

/// A forecast amount (whole units, not stored money) in its currency:
/// `$12,345`, or `12,345 XYZ` for a currency without a symbol.
pub fn rounded_money(v: f64, currency: &str) -> String {
    match crate::money::currency_symbol(currency) {
        Some(s) => format!("{s}{}", thousands(v)),
        None => format!("{} {currency}", thousands(v)),
    }
}

pub fn short_date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// "1 Oct – 31 Oct 2026" style range.
pub fn range_text(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        short_date(from)
    } else {
        format!("{} – {}", short_date(from), short_date(to))
    }
}

pub fn thousands(n: f64) -> String {
    let whole = n.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if whole < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Builds a query string from pairs (values percent-encoded).
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    ser.finish()
}
