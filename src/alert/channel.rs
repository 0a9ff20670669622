//! Where alerts go: a webhook (generic JSON or Slack's shape) or e-mail
//! over SMTP. Channels are settings (`[[alert_channel]]` in finops.toml),
//! never database rows, and their secrets (webhook URLs, SMTP passwords)
//! can come from environment variables; [`Secret`] keeps them out of
//! `Debug`, logs, errors and pages.

use std::fmt;

use serde::Deserialize;

/// A value that must not be shown: its `Debug` and `Display` print a
/// placeholder.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("…")
    }
}

/// How the SMTP connection is protected.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587; the default).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a relay on this machine or a test server only.
    None,
}

impl SmtpSecurity {
    fn parse(text: &str) -> Option<SmtpSecurity> {
        match text {
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" => Some(SmtpSecurity::Tls),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        }
    }

    fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::StartTls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// POSTs the alert as JSON (see `message::webhook_json`).
    Webhook(Secret),
    /// POSTs Slack's incoming-webhook shape (`text` and `blocks`).
    Slack(Secret),
    Email(Smtp),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub name: String,
    pub target: Target,
}

impl Channel {
    pub fn kind(&self) -> &'static str {
        match self.target {
            Target::Webhook(_) => "webhook",
            Target::Slack(_) => "slack",
            Target::Email(_) => "email",
        }
    }

    /// What a page may show of where it goes: the webhook's host (never its
    /// path, which is the secret) or the mail server and recipients.
    pub fn shown_target(&self) -> String {
        match &self.target {
            Target::Webhook(url) | Target::Slack(url) => host_of(url.expose())
                .map(|h| format!("{h} (address hidden)"))
                .unwrap_or_else(|| "address hidden".to_string()),
            Target::Email(s) => format!(
                "{} via {}:{} ({})",
                s.to.join(", "),
                s.host,
                s.port,
                match s.security {
                    SmtpSecurity::StartTls => "STARTTLS",
                    SmtpSecurity::Tls => "TLS",
                    SmtpSecurity::None => "unencrypted",
                }
            ),
        }
    }
}

/// `https://hooks.slack.com/services/…` → `hooks.slack.com`.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// One `[[alert_channel]]` table of the settings file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelFile {
    pub name: String,
    /// `webhook`, `slack` or `email`.
    pub kind: String,
    pub url: Option<Secret>,
    /// The environment variable holding the URL (instead of `url`).
    pub url_env: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    pub smtp_security: Option<String>,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<Secret>,
    /// The environment variable holding the password.
    pub smtp_password_env: Option<String>,
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
}

impl ChannelFile {
    /// The channel, with its secrets read from the environment where the
    /// file names a variable; the message names the field at fault.
    pub fn resolve(self, env: &dyn Fn(&str) -> Option<String>) -> Result<Channel, String> {
        let name = self.name.trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "alert_channel name '{}': use letters, digits, - and _",
                self.name
            ));
        }
        let at = |field: &str, message: &str| format!("alert_channel '{name}': {field}: {message}");
        let secret = |value: Option<Secret>,
                      var: Option<String>,
                      field: &str|
         -> Result<Option<Secret>, String> {
            match (value, var) {
                (Some(_), Some(_)) => {
                    Err(at(field, &format!("give {field} or {field}_env, not both")))
                }
                (Some(v), None) => Ok(Some(v)),
                (None, Some(var)) => env(&var)
                    .filter(|v| !v.is_empty())
                    .map(|v| Some(Secret::new(v)))
                    .ok_or_else(|| {
                        at(
                            &format!("{field}_env"),
                            &format!("environment variable {var} is not set"),
                        )
                    }),
                (None, None) => Ok(None),
            }
        };
        let target = match self.kind.as_str() {
            "webhook" | "slack" => {
                let url = secret(self.url, self.url_env, "url")?
                    .ok_or_else(|| at("url", "missing (give url or url_env)"))?;
                let text = url.expose();
                if !(text.starts_with("https://") || text.starts_with("http://")) {
                    return Err(at("url", "must start with https:// or http://"));
                }
                if self.kind == "slack" {
                    Target::Slack(url)
                } else {
                    Target::Webhook(url)
                }
            }
            "email" => {
                let security = match self.smtp_security.as_deref() {
                    None => SmtpSecurity::StartTls,
                    Some(s) => SmtpSecurity::parse(s).ok_or_else(|| {
                        at(
                            "smtp_security",
                            &format!("'{s}' is not starttls, tls or none"),
                        )
                    })?,
                };
                let host = self
                    .smtp_host
                    .filter(|h| !h.trim().is_empty())
                    .ok_or_else(|| at("smtp_host", "missing"))?;
                let from = self
                    .from
                    .filter(|f| f.contains('@'))
                    .ok_or_else(|| at("from", "missing or not an address"))?;
                if self.to.is_empty() || self.to.iter().any(|t| !t.contains('@')) {
                    return Err(at("to", "give one or more addresses"));
                }
                let password = secret(self.smtp_password, self.smtp_password_env, "smtp_password")?;
                Target::Email(Smtp {
                    host,
                    port: self.smtp_port.unwrap_or(security.default_port()),
                    security,
                    user: self.smtp_user,
                    password,
                    from,
                    to: self.to,
                })
            }
            other => {
                return Err(at(
                    "kind",
                    &format!("'{other}' is not webhook, slack or email"),
                ))
            }
        };
        Ok(Channel { name, target })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print_and_pages_see_only_the_host() {
        let c = ChannelFile {
            name: "finance".into(),
            kind: "slack".into(),
            url_env: Some("HOOK".into()),
            ..ChannelFile::default()
        }
        .resolve(&|v| (v == "HOOK").then(|| "https://hooks.slack.com/services/T0/B0/XYZ".into()))
        .unwrap();
        assert!(!format!("{c:?}").contains("XYZ"));
        assert_eq!(c.shown_target(), "hooks.slack.com (address hidden)");
        assert_eq!(c.kind(), "slack");
    }

    #[test]
    fn a_bad_channel_names_its_field() {
        let e = ChannelFile {
            name: "mail".into(),
            kind: "email".into(),
            smtp_host: Some("smtp.example.com".into()),
            from: Some("finops@example.com".into()),
            ..ChannelFile::default()
        }
        .resolve(&|_| None)
        .unwrap_err();
        assert_eq!(e, "alert_channel 'mail': to: give one or more addresses");
        let e = ChannelFile {
            name: "hook".into(),
            kind: "webhook".into(),
            url_env: Some("MISSING".into()),
            ..ChannelFile::default()
        }
        .resolve(&|_| None)
        .unwrap_err();
        assert!(e.contains("MISSING is not set"), "{e}");
    }
}
