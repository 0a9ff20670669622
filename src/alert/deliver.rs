//! Sending raised alerts: every delivery that is due is claimed (so two
//! processes never send it twice), sent, and recorded as sent, or retried
//! later with a growing wait, or given up after the last attempt. Error
//! messages are kept without the webhook's address.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::channel::{Channel, SmtpSecurity, Target};
use super::message;
use super::AlertError;
use crate::db::alerts::{self, Alert, FAILED, PENDING, SENT};
use crate::db::DbConnection;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 6;
/// Wait before the second attempt; each later wait is four times longer
/// (30 s, 2 min, 8 min, 32 min, ~2 h).
const FIRST_RETRY_SECONDS: i64 = 30;
/// How long one send may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// The wait after failed attempt `attempt` (1-based).
pub fn backoff(attempt: i64) -> chrono::Duration {
    let factor = 4i64.saturating_pow(u32::try_from(attempt.max(1) - 1).unwrap_or(0));
    chrono::Duration::seconds(FIRST_RETRY_SECONDS.saturating_mul(factor).min(6 * 3600))
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Failed this time, tried again later.
    pub retrying: usize,
    /// Failed for the last time.
    pub given_up: usize,
}

/// Sends every delivery due at `now`.
pub fn deliver_due(
    conn: &mut DbConnection,
    channels: &[Channel],
    public_url: Option<&str>,
    now: NaiveDateTime,
) -> Result<DeliveryReport, AlertError> {
    // A process that stopped mid-send leaves `sending` behind; after ten
    // minutes it is tried again.
    alerts::release_stale(conn, now - chrono::Duration::minutes(10))?;
    let mut report = DeliveryReport::default();
    for d in alerts::due(conn, now)? {
        if !alerts::claim(conn, d.id, d.attempts, now)? {
            continue;
        }
        let attempt = d.attempts + 1;
        let Some(alert) = alerts::alert(conn, d.alert_id)? else {
            alerts::finish(conn, d.id, FAILED, now, "the alert was removed", None)?;
            continue;
        };
        let result = match channels.iter().find(|c| c.name == d.channel) {
            Some(channel) => send(channel, &alert, public_url),
            None => Err(format!(
                "channel '{}' is not configured in this process's settings",
                d.channel
            )),
        };
        match result {
            Ok(()) => {
                alerts::finish(conn, d.id, SENT, now, "", Some(now))?;
                tracing::info!(alert = alert.id, channel = %d.channel, attempt, "alert delivered");
                report.sent += 1;
            }
            Err(e) if attempt >= MAX_ATTEMPTS => {
                alerts::finish(conn, d.id, FAILED, now, &e, None)?;
                tracing::error!(alert = alert.id, channel = %d.channel, attempt, error = %e, "alert delivery given up");
                report.given_up += 1;
            }
            Err(e) => {
                let next = now + backoff(attempt);
                alerts::finish(conn, d.id, PENDING, next, &e, None)?;
                tracing::warn!(alert = alert.id, channel = %d.channel, attempt, error = %e, next = %next, "alert delivery failed; will retry");
                report.retrying += 1;
            }
        }
    }
    Ok(report)
}

/// Sends one alert to one channel.
pub fn send(channel: &Channel, alert: &Alert, public_url: Option<&str>) -> Result<(), String> {
    match &channel.target {
        Target::Webhook(url) => post_json(url.expose(), &message::webhook_json(alert, public_url)),
        Target::Slack(url) => post_json(url.expose(), &message::slack_json(alert, public_url)),
        Target::Email(smtp) => send_mail(smtp, alert, public_url),
    }
}

fn post_json(url: &str, body: &serde_json::Value) -> Result<(), String> {
    // The error's own text never carries the address (the secret).
    let clean = |e: reqwest::Error| {
        let e = e.without_url();
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(clean)?;
    let response = client.post(url).json(body).send().map_err(clean)?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered HTTP {status}"))
    }
}

fn send_mail(
    smtp: &super::channel::Smtp,
    alert: &Alert,
    public_url: Option<&str>,
) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{Message, SmtpTransport, Transport};

    let (subject, text) = message::email(alert, public_url);
    let from: lettre::message::Mailbox = smtp
        .from
        .parse()
        .map_err(|e: lettre::address::AddressError| format!("from address '{}': {e}", smtp.from))?;
    let mut builder = Message::builder().from(from).subject(subject);
    for to in &smtp.to {
        let mailbox: lettre::message::Mailbox = to
            .parse()
            .map_err(|e: lettre::address::AddressError| format!("to address '{to}': {e}"))?;
        builder = builder.to(mailbox);
    }
    let email = builder
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| format!("building the e-mail: {e}"))?;
    let relay = match smtp.security {
        SmtpSecurity::StartTls => SmtpTransport::starttls_relay(&smtp.host),
        SmtpSecurity::Tls => SmtpTransport::relay(&smtp.host),
        SmtpSecurity::None => Ok(SmtpTransport::builder_dangerous(&smtp.host)),
    }
    .map_err(|e| format!("mail server {}: {e}", smtp.host))?;
    let mut relay = relay.port(smtp.port).timeout(Some(SEND_TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        relay = relay.credentials(Credentials::new(
            user.clone(),
            password.expose().to_string(),
        ));
    }
    relay
        .build()
        .send(&email)
        .map(|_| ())
        .map_err(|e| format!("mail server {}:{}: {e}", smtp.host, smtp.port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_six_hours() {
        let waits: Vec<i64> = (1..=7).map(|a| backoff(a).num_seconds()).collect();
        assert_eq!(waits, vec![30, 120, 480, 1920, 7680, 21600, 21600]);
    }
}
