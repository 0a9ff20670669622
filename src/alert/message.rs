//! What an alert says on each channel: generic JSON for a webhook, Slack's
//! incoming-webhook shape, and a plain-text e-mail.

use serde_json::{json, Value};

use crate::db::alerts::Alert;

/// The alert's link, absolute when the service's public address is known.
pub fn link(alert: &Alert, public_url: Option<&str>) -> String {
    match (public_url, alert.link.is_empty()) {
        (_, true) => String::new(),
        (Some(base), false) => format!("{base}{}", alert.link),
        (None, false) => alert.link.clone(),
    }
}

/// The generic webhook body: one JSON object per alert.
pub fn webhook_json(alert: &Alert, public_url: Option<&str>) -> Value {
    json!({
        "source": "finops",
        "alert_id": alert.id,
        "rule": alert.rule_name,
        "kind": alert.kind,
        "episode": alert.episode,
        "title": alert.title,
        "body": alert.body,
        "link": link(alert, public_url),
        "raised_at": alert.raised_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    })
}

/// Slack's incoming-webhook shape: `text` (notifications and clients
/// without blocks) and a header and section block.
pub fn slack_json(alert: &Alert, public_url: Option<&str>) -> Value {
    let link = link(alert, public_url);
    let mut body = escape_slack(&alert.body);
    if link.starts_with("http") {
        body.push_str(&format!("\n<{link}|Open in finops>"));
    }
    json!({
        "text": format!("{} — {}", alert.title, alert.rule_name),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": truncate(&alert.title, 150)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(&body, 3000)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("finops rule *{}*", escape_slack(&alert.rule_name))}]}
        ]
    })
}

/// Subject and plain-text body of the e-mail.
pub fn email(alert: &Alert, public_url: Option<&str>) -> (String, String) {
    let link = link(alert, public_url);
    let mut text = format!("{}\n\n{}\n", alert.title, alert.body);
    if !link.is_empty() {
        text.push_str(&format!("\n{link}\n"));
    }
    text.push_str(&format!(
        "\nRaised {} by the finops rule '{}'.\n",
        alert.raised_at.format("%Y-%m-%d %H:%M UTC"),
        alert.rule_name
    ));
    (format!("[finops] {}", alert.title), text)
}

/// Slack reads `&`, `<` and `>` as markup.
fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            id: 7,
            rule_id: 1,
            rule_name: "spikes".into(),
            kind: "anomaly".into(),
            episode: "PC/eu-west-1/EC2:USD:2026-04-19".into(),
            title: "Cost anomaly: PC <1>".into(),
            body: "actual $2,600.00 & expected $1,000.00".into(),
            link: "/anomalies".into(),
            raised_at: chrono::NaiveDate::from_ymd_opt(2026, 4, 20)
                .unwrap()
                .and_hms_opt(6, 0, 0)
                .unwrap(),
        }
    }

    #[test]
    fn slack_escapes_markup_and_links_when_the_address_is_known() {
        let v = slack_json(&alert(), Some("https://finops.example"));
        let section = v["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(section.contains("&amp; expected"), "{section}");
        assert!(section.ends_with("<https://finops.example/anomalies|Open in finops>"));
        assert_eq!(v["text"], "Cost anomaly: PC <1> — spikes");
    }

    #[test]
    fn webhook_and_mail_carry_the_same_facts() {
        let v = webhook_json(&alert(), None);
        assert_eq!(v["link"], "/anomalies");
        assert_eq!(v["raised_at"], "2026-04-20T06:00:00Z");
        let (subject, body) = email(&alert(), None);
        assert_eq!(subject, "[finops] Cost anomaly: PC <1>");
        assert!(body.contains("actual $2,600.00 & expected $1,000.00"));
    }
}
