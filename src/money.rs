//! Fixed-point money: integer micro-units (1e-6) of the billing currency.
//!
//! Stored and exported money never passes through a float. Parsing rounds
//! half away from zero at the sixth decimal; formatting rounds half away
//! from zero at the requested number of places.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Serialize, Serializer};

/// Micro-units per currency unit.
pub const MICROS_PER_UNIT: i64 = 1_000_000;

/// An amount of money in micro-units of its currency.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("'{0}' is not a decimal number")]
    NotANumber(String),
    #[error("'{0}' is too large for an amount of money")]
    Overflow(String),
}

impl Micros {
    pub const ZERO: Micros = Micros(0);

    pub fn from_units(units: i64) -> Micros {
        Micros(units * MICROS_PER_UNIT)
    }

    /// Parses a plain decimal (`-12.345`, `1e-7`, `0.000000800`, `+3`) into
    /// micro-units, rounding half away from zero beyond six decimals.
    pub fn parse(text: &str) -> Result<Micros, MoneyError> {
        parse_scaled(text.trim(), 6)
            .and_then(|v| i64::try_from(v).ok())
            .map(Micros)
            .ok_or_else(|| classify_error(text))
    }

    /// Rounds an amount in 10^-`scale` units to micro-units, half away from
    /// zero (`scale` ≥ 6).
    pub fn from_scaled(value: i128, scale: u32) -> Option<Micros> {
        let divisor = 10_i128.checked_pow(scale.checked_sub(6)?)?;
        i64::try_from(round_div(value, divisor)).ok().map(Micros)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn abs(self) -> Micros {
        Micros(self.0.abs())
    }

    /// Whole cents, rounded half away from zero.
    pub fn round_to_cents(self) -> i64 {
        round_div(self.0 as i128, 10_000) as i64
    }

    /// The amount as a plain decimal with `places` (0..=6) decimals, rounded
    /// half away from zero: `-1234.57`. No thousands separators.
    pub fn to_decimal(self, places: u32) -> String {
        let places = places.min(6);
        let scale = 10_i128.pow(6 - places);
        let scaled = round_div(self.0 as i128, scale);
        let negative = scaled < 0;
        let magnitude = scaled.unsigned_abs();
        let divisor = 10_u128.pow(places);
        let whole = magnitude / divisor;
        let frac = magnitude % divisor;
        let sign = if negative { "-" } else { "" };
        if places == 0 {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{frac:0width$}", width = places as usize)
        }
    }

    /// Human formatting for pages: `$1,234,567.89`, `-€12.00`, `1,234.00 SEK`.
    pub fn display(self, currency: &str) -> String {
        let plain = self.to_decimal(2);
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, "00"));
        let grouped = group_thousands(whole);
        match currency_symbol(currency) {
            Some(symbol) => format!("{sign}{symbol}{grouped}.{frac}"),
            None => format!("{sign}{grouped}.{frac} {currency}"),
        }
    }

    /// Short human formatting for chart axes and tiles: `$1.23M`, `$845k`, `$12`.
    pub fn display_compact(self, currency: &str) -> String {
        compact_amount(self.0 as f64 / MICROS_PER_UNIT as f64, currency)
    }

    /// The amount in currency units as a float, for charts and statistics only.
    pub fn as_units_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_UNIT as f64
    }

    /// Converts a float amount (model output, never stored input) to micros.
    pub fn from_units_f64(units: f64) -> Micros {
        Micros((units * MICROS_PER_UNIT as f64).round() as i64)
    }

    pub fn checked_add(self, other: Micros) -> Option<Micros> {
        self.0.checked_add(other.0).map(Micros)
    }

    /// `self / total` as a percentage, `None` when the total is zero.
    pub fn percent_of(self, total: Micros) -> Option<f64> {
        if total.0 == 0 {
            None
        } else {
            Some(self.0 as f64 * 100.0 / total.0 as f64)
        }
    }
}

/// Compact human amount for a float of currency units (charts only).
pub fn compact_amount(units: f64, currency: &str) -> String {
    let symbol = currency_symbol(currency).unwrap_or("");
    let sign = if units < 0.0 { "-" } else { "" };
    let v = units.abs();
    let body = if v >= 1e9 {
        format!("{}B", trim_float(v / 1e9))
    } else if v >= 1e6 {
        format!("{}M", trim_float(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim_float(v / 1e3))
    } else if v >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    };
    if symbol.is_empty() && !currency.is_empty() {
        format!("{sign}{body} {currency}")
    } else {
        format!("{sign}{symbol}{body}")
    }
}

fn trim_float(v: f64) -> String {
    let text = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

pub fn currency_symbol(currency: &str) -> Option<&'static str> {
    match currency {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        _ => None,
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Integer division rounding half away from zero.
fn round_div(value: i128, divisor: i128) -> i128 {
    let quotient = value / divisor;
    let remainder = value % divisor;
    if remainder.abs() * 2 >= divisor {
        quotient + value.signum()
    } else {
        quotient
    }
}

fn classify_error(text: &str) -> MoneyError {
    let t = text.trim();
    let numeric = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if numeric && t.chars().filter(|c| c.is_ascii_digit()).count() > 18 {
        MoneyError::Overflow(t.to_string())
    } else {
        MoneyError::NotANumber(t.to_string())
    }
}

/// Exact decimal parsing: `text` (plain or with an exponent, such as
/// `-12.5`, `1.6E-7`, `+3`, `.25`) as an integer number of 10^-`scale`
/// units, rounded half away from zero. `None` if it is not a number or does
/// not fit. No float on the way.
pub fn parse_scaled(text: &str, scale: u32) -> Option<i128> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(pos) => {
            let exp: i32 = text[pos + 1..].parse().ok()?;
            (&text[..pos], exp)
        }
        None => (text, 0),
    };
    let (negative, unsigned) = match mantissa.as_bytes().first()? {
        b'-' => (true, &mantissa[1..]),
        b'+' => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (whole, frac) = match unsigned.split_once('.') {
        Some((w, f)) => (w, f),
        None => (unsigned, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // value = (whole ++ frac) × 10^(exponent − len(frac)); in target units
    // that is × 10^(exponent − len(frac) + scale).
    let digits = format!("{whole}{frac}");
    let digits = digits.trim_start_matches('0');
    let shift = i64::from(exponent) - frac.len() as i64 + i64::from(scale);
    let value: i128 = if digits.is_empty() {
        0
    } else if shift >= 0 {
        if digits.len() as i64 + shift > 37 {
            return None;
        }
        let base: i128 = digits.parse().ok()?;
        base.checked_mul(10_i128.checked_pow(shift as u32)?)?
    } else {
        let drop = (-shift) as usize;
        if drop > digits.len() {
            // Below half a unit: rounds to zero.
            0
        } else {
            let keep = &digits[..digits.len() - drop];
            let rest = &digits[digits.len() - drop..];
            if keep.len() > 37 {
                return None;
            }
            let base: i128 = if keep.is_empty() {
                0
            } else {
                keep.parse().ok()?
            };
            base + i128::from(rest.as_bytes()[0] >= b'5')
        }
    };
    Some(if negative { -value } else { value })
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal(6))
    }
}

/// Serialised as a decimal string with six places, never as a JSON number.
impl Serialize for Micros {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_decimal(6))
    }
}

impl Add for Micros {
    type Output = Micros;
    fn add(self, rhs: Micros) -> Micros {
        Micros(self.0 + rhs.0)
    }
}

impl AddAssign for Micros {
    fn add_assign(&mut self, rhs: Micros) {
        self.0 += rhs.0;
    }
}

impl Sub for Micros {
    type Output = Micros;
    fn sub(self, rhs: Micros) -> Micros {
        Micros(self.0 - rhs.0)
    }
}

impl SubAssign for Micros {
    fn sub_assign(&mut self, rhs: Micros) {
        self.0 -= rhs.0;
    }
}

impl Neg for Micros {
    type Output = Micros;
    fn neg(self) -> Micros {
        Micros(-self.0)
    }
}

impl Sum for Micros {
    fn sum<I: Iterator<Item = Micros>>(iter: I) -> Micros {
        Micros(iter.map(|m| m.0).sum())
    }
}

impl<'a> Sum<&'a Micros> for Micros {
    fn sum<I: Iterator<Item = &'a Micros>>(iter: I) -> Micros {
        Micros(iter.map(|m| m.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> i64 {
        Micros::parse(s).unwrap().0
    }

    #[test]
    fn parses_plain_and_signed_decimals() {
        assert_eq!(p("0"), 0);
        assert_eq!(p("12.5"), 12_500_000);
        assert_eq!(p("-12.5"), -12_500_000);
        assert_eq!(p("+3"), 3_000_000);
        assert_eq!(p(".25"), 250_000);
        assert_eq!(p("7."), 7_000_000);
        assert_eq!(p("0.00000080000"), 1);
        assert_eq!(p("0.00001605990"), 16);
        assert_eq!(p("0.0000004"), 0);
        assert_eq!(p("0.0000005"), 1);
        assert_eq!(p("-0.0000005"), -1);
        assert_eq!(p("1.6823086974"), 1_682_309);
    }

    #[test]
    fn parses_exponents() {
        assert_eq!(p("1e-6"), 1);
        assert_eq!(p("2.5E3"), 2_500_000_000);
        assert_eq!(p("5e-7"), 1);
        assert_eq!(p("4e-7"), 0);
        assert_eq!(p("1.5e-12"), 0);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", "-", ".", "abc", "1,000.00", "1.2.3", "$5", "NaN", "1e", "--1",
        ] {
            assert!(Micros::parse(bad).is_err(), "{bad} should not parse");
        }
        assert!(matches!(
            Micros::parse("99999999999999999999999"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn formats_with_rounding_half_away_from_zero() {
        assert_eq!(Micros(1_234_565_000).to_decimal(2), "1234.57");
        assert_eq!(Micros(-1_234_565_000).to_decimal(2), "-1234.57");
        assert_eq!(Micros(4_999).to_decimal(2), "0.00");
        assert_eq!(Micros(5_000).to_decimal(2), "0.01");
        assert_eq!(Micros(-5_000).to_decimal(2), "-0.01");
        assert_eq!(Micros(1).to_decimal(6), "0.000001");
        assert_eq!(Micros(12_000_000).to_decimal(0), "12");
        assert_eq!(Micros(1_234_565_000).round_to_cents(), 123_457);
    }

    #[test]
    fn displays_currency() {
        assert_eq!(Micros(1_234_567_891_000).display("USD"), "$1,234,567.89");
        assert_eq!(Micros(-12_000_000).display("EUR"), "-€12.00");
        assert_eq!(Micros(999_000_000).display("SEK"), "999.00 SEK");
        assert_eq!(Micros(1_234_000_000_000).display_compact("USD"), "$1.23M");
        assert_eq!(Micros(845_200_000_000).display_compact("USD"), "$845k");
    }

    #[test]
    fn parses_at_any_scale_and_rounds_once() {
        assert_eq!(parse_scaled("0.00000080000", 12), Some(800_000));
        assert_eq!(parse_scaled("1.6823086974", 12), Some(1_682_308_697_400));
        assert_eq!(parse_scaled("1.6E-7", 12), Some(160_000));
        assert_eq!(parse_scaled("-2.5", 0), Some(-3));
        // Summing at 1e-12 and rounding once keeps what per-row rounding loses.
        let rows = ["0.0000004", "0.0000004", "0.0000004"];
        let exact: i128 = rows.iter().map(|r| parse_scaled(r, 12).unwrap()).sum();
        assert_eq!(Micros::from_scaled(exact, 12), Some(Micros(1)));
        let per_row: i64 = rows.iter().map(|r| Micros::parse(r).unwrap().0).sum();
        assert_eq!(per_row, 0);
    }

    #[test]
    fn round_trips_six_places() {
        for v in [0_i64, 1, -1, 999_999, 1_000_000, -123_456_789, i64::MAX / 2] {
            assert_eq!(Micros::parse(&Micros(v).to_decimal(6)).unwrap(), Micros(v));
        }
    }

    /// Property: any amount written with six decimals parses back to
    /// itself; sums in micros are exact and order-free; rounding to cents
    /// is within half a cent and agrees with the two-decimal text.
    #[test]
    fn amounts_round_trip_and_sums_are_exact_on_generated_values() {
        let mut rng = crate::rng::Rng(2026);
        for case in 0..20_000 {
            let scale = *rng.pick(&[1i64, 1_000, 1_000_000, 1_000_000_000, 1_000_000_000_000]);
            let m = Micros(rng.range(-scale, scale));
            let text = m.to_decimal(6);
            assert_eq!(Micros::parse(&text), Ok(m), "case {case}: {text}");
            // Scientific and padded forms of the same value.
            assert_eq!(
                Micros::parse(&format!(" {}e-6 ", m.0)),
                Ok(m),
                "case {case}: exponent form"
            );
            let cents = m.round_to_cents();
            assert!((cents * 10_000 - m.0).abs() <= 5_000, "case {case}");
            let two = m.to_decimal(2);
            assert_eq!(
                crate::money::parse_scaled(&two, 2),
                Some(i128::from(cents)),
                "case {case}: {two}"
            );
            // display keeps the cents and the sign.
            let shown = m.display("USD");
            assert_eq!(shown.starts_with('-'), cents < 0, "case {case}: {shown}");
            assert!(
                shown.ends_with(&two[two.len() - 2..]),
                "case {case}: {shown} {two}"
            );
        }
        for case in 0..2_000 {
            let xs: Vec<Micros> = (0..rng.range(1, 50))
                .map(|_| Micros(rng.range(-1_000_000_000_000, 1_000_000_000_000)))
                .collect();
            let forward: Micros = xs.iter().sum();
            let backward: Micros = xs.iter().rev().sum();
            assert_eq!(forward, backward, "case {case}");
            let as_text: i128 = xs
                .iter()
                .map(|x| crate::money::parse_scaled(&x.to_decimal(6), 6).unwrap_or(0))
                .sum();
            assert_eq!(as_text, i128::from(forward.0), "case {case}");
        }
        // Overflow is reported, not wrapped.
        assert_eq!(Micros(i64::MAX).checked_add(Micros(1)), None);
        assert!(Micros::parse("99999999999999999999").is_err());
    }
}
