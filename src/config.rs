//! Settings: `finops.toml` (optional), then `FINOPS_*` environment
//! variables, then command-line flags; later sources win.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::auth::policy::MetricsAccess;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://finops.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_CONFIG_FILE: &str = "finops.toml";
/// Default of `max_compression_ratio`: CSV billing exports compress 5–50×;
/// a crafted file a thousand times or more.
pub const DEFAULT_MAX_COMPRESSION_RATIO: u64 = 200;
/// How long a browser session lasts unless `session_hours` says otherwise.
pub const DEFAULT_SESSION_HOURS: u32 = 12;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `sqlite://PATH` (default `sqlite://finops.db`) or `postgres://…`.
    pub database_url: String,
    /// Address the web service listens on.
    pub bind: String,
    /// Database connections in the pool.
    pub pool_size: u32,
    /// Log filter, as `RUST_LOG` takes it (`info`, `finops=debug`, …).
    pub log: String,
    /// Largest file the Data sources page accepts, in MiB.
    pub upload_limit_mb: u64,
    /// `serve` pulls from Cost Explorer this often (hours); 0 is off.
    pub pull_every_hours: u32,
    /// Cost Explorer endpoint other than AWS's (an emulator, a proxy).
    pub cost_explorer_endpoint_url: Option<String>,
    /// The cost-allocation tag that names the platform in Cost Explorer.
    pub cost_explorer_tag_key: String,
    /// Billing account label of pulled data.
    pub cost_explorer_account: String,
    /// Log lines as text or JSON.
    pub log_format: crate::telemetry::LogFormat,
    /// Serve `GET /metrics` (Prometheus text format).
    pub metrics: bool,
    /// Who reads `GET /metrics` without signing in: `loopback` (default:
    /// programs on this machine, not through a proxy), `public` or
    /// `signed-in` (users and API tokens only).
    pub metrics_access: MetricsAccess,
    /// Proxies whose `Forwarded` / `X-Forwarded-*` headers are believed
    /// (addresses or CIDR blocks; none by default).
    pub trusted_proxies: Vec<String>,
    /// Largest size a compressed input may expand to, in MiB (uploads,
    /// CLI files, pulls); default 32 × `upload_limit_mb`.
    pub max_decompressed_mb: Option<u64>,
    /// Largest expansion of a compressed input (decompressed ÷ compressed
    /// bytes), once it is past 16 MiB.
    pub max_compression_ratio: u64,
    /// How long a browser session lasts, in hours.
    pub session_hours: u32,
    /// The labelled one-click demo sign-in (`serve --demo` only; never from
    /// a file or the environment).
    pub demo_sign_in: bool,
    /// Load the 24-month demo into a database without costs at start
    /// (`serve --demo` only).
    pub demo_data: bool,
    /// Where alerts go (`[[alert_channel]]` tables of the file).
    pub alert_channels: Vec<crate::alert::channel::Channel>,
    /// `serve` evaluates the alert rules this often (minutes) besides
    /// after every import and pull; 0 is only after data changes.
    pub alert_every_minutes: u32,
    /// The address people reach the service at (`https://finops.example`),
    /// for links in alerts; without it alerts carry paths.
    pub public_url: Option<String>,
    /// Look for cost anomalies again after new costs arrive (`serve`, and
    /// CLI imports when alert rules exist).
    pub detect_anomalies: bool,
    /// Whether the scheduled pulls (`pull_every_hours`) include Cost
    /// Explorer (default yes; turn it off when billing comes from S3).
    pub pull_cost_explorer: bool,
    /// Billing exports in S3 that `serve` pulls every `pull_every_hours`
    /// (`[[s3_export]]` tables of the file).
    pub s3_exports: Vec<S3ExportSetting>,
    /// How often `serve` looks for scheduled work that is due (seconds).
    pub schedule_tick_seconds: u32,
    /// Whether the scheduled pulls include CloudWatch utilisation of the
    /// billed instances (the last two days each time).
    pub pull_utilisation: bool,
    /// CloudWatch endpoint other than AWS's.
    pub cloudwatch_endpoint_url: Option<String>,
    /// Whether `serve` computes the forecasts, plans, scenario comparison
    /// and recommendations behind the pages' default views in the
    /// background after every import (so nobody waits for them).
    pub warm_pages: bool,
}

/// One `[[s3_export]]` table: an export `serve` pulls on the schedule.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3ExportSetting {
    /// `s3://BUCKET/PREFIX/EXPORT-NAME`.
    pub uri: String,
    /// Another S3 endpoint than AWS's.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// The bucket's region (default: the standard AWS chain's).
    #[serde(default)]
    pub region: Option<String>,
    /// `auto` (default), `cur` or `focus`.
    #[serde(default)]
    pub format: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_string(),
            bind: DEFAULT_BIND.to_string(),
            pool_size: 8,
            log: "info".to_string(),
            upload_limit_mb: 1024,
            pull_every_hours: 0,
            cost_explorer_endpoint_url: None,
            cost_explorer_tag_key: "platform".to_string(),
            cost_explorer_account: "aws".to_string(),
            log_format: crate::telemetry::LogFormat::Text,
            metrics: true,
            metrics_access: MetricsAccess::Loopback,
            trusted_proxies: Vec::new(),
            max_decompressed_mb: None,
            max_compression_ratio: DEFAULT_MAX_COMPRESSION_RATIO,
            session_hours: DEFAULT_SESSION_HOURS,
            demo_sign_in: false,
            demo_data: false,
            alert_channels: Vec::new(),
            alert_every_minutes: 60,
            public_url: None,
            detect_anomalies: true,
            pull_cost_explorer: true,
            s3_exports: Vec::new(),
            schedule_tick_seconds: 60,
            pull_utilisation: false,
            cloudwatch_endpoint_url: None,
            warm_pages: true,
        }
    }
}

impl Settings {
    /// How far a compressed input may expand (uploads, CLI files, pulls).
    pub fn decompress_limits(&self) -> crate::ingest::file::Limits {
        crate::ingest::file::Limits {
            max_bytes: self
                .max_decompressed_mb
                .unwrap_or(self.upload_limit_mb.saturating_mul(32))
                .saturating_mul(1024 * 1024),
            max_ratio: self.max_compression_ratio,
        }
    }
}

/// The optional file's keys (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    bind: Option<String>,
    pool_size: Option<u32>,
    log: Option<String>,
    upload_limit_mb: Option<u64>,
    pull_every_hours: Option<u32>,
    cost_explorer_endpoint_url: Option<String>,
    cost_explorer_tag_key: Option<String>,
    cost_explorer_account: Option<String>,
    log_format: Option<String>,
    metrics: Option<bool>,
    metrics_access: Option<String>,
    /// Before `metrics_access`: `true` is `public`, `false` `signed-in`.
    metrics_public: Option<bool>,
    session_hours: Option<u32>,
    trusted_proxies: Option<Vec<String>>,
    max_decompressed_mb: Option<u64>,
    max_compression_ratio: Option<u64>,
    alert_channel: Option<Vec<crate::alert::channel::ChannelFile>>,
    alert_every_minutes: Option<u32>,
    public_url: Option<String>,
    detect_anomalies: Option<bool>,
    pull_cost_explorer: Option<bool>,
    s3_export: Option<Vec<S3ExportSetting>>,
    schedule_tick_seconds: Option<u32>,
    pull_utilisation: Option<bool>,
    cloudwatch_endpoint_url: Option<String>,
    warm_pages: Option<bool>,
}

/// Values given on the command line, which win over everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub bind: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
}

impl Settings {
    /// Loads settings. `config_file` is the `--config` flag; without it
    /// `FINOPS_CONFIG`, then `./finops.toml` if it exists.
    pub fn load(
        config_file: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        Settings::load_from(config_file, overrides, &|name| std::env::var(name).ok())
    }

    /// As `load`, with the environment given (tests).
    pub fn load_from(
        config_file: Option<&Path>,
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let mut s = Settings::default();
        let explicit = config_file
            .map(Path::to_path_buf)
            .or_else(|| env("FINOPS_CONFIG").map(PathBuf::from));
        let path = match explicit {
            Some(p) => Some(p),
            None => {
                let p = PathBuf::from(DEFAULT_CONFIG_FILE);
                p.exists().then_some(p)
            }
        };
        if let Some(path) = path {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File {
                file: file.clone(),
                message: e.to_string(),
            })?;
            let f: FileSettings = toml::from_str(&text).map_err(|e| ConfigError::File {
                file: file.clone(),
                message: e.to_string().trim().replace('\n', " "),
            })?;
            if let Some(v) = f.database_url {
                s.database_url = v;
            }
            if let Some(v) = f.bind {
                s.bind = v;
            }
            if let Some(v) = f.pool_size {
                s.pool_size = v;
            }
            if let Some(v) = f.log {
                s.log = v;
            }
            if let Some(v) = f.upload_limit_mb {
                s.upload_limit_mb = v;
            }
            if let Some(v) = f.pull_every_hours {
                s.pull_every_hours = v;
            }
            if let Some(v) = f.cost_explorer_endpoint_url {
                s.cost_explorer_endpoint_url = Some(v);
            }
            if let Some(v) = f.cost_explorer_tag_key {
                s.cost_explorer_tag_key = v;
            }
            if let Some(v) = f.cost_explorer_account {
                s.cost_explorer_account = v;
            }
            if let Some(v) = f.log_format {
                s.log_format =
                    crate::telemetry::LogFormat::parse(&v).ok_or_else(|| ConfigError::File {
                        file: file.clone(),
                        message: format!("log_format: '{v}' is not text or json"),
                    })?;
            }
            if let Some(v) = f.metrics {
                s.metrics = v;
            }
            if let Some(v) = f.metrics_public {
                s.metrics_access = legacy_metrics_public(v);
            }
            if let Some(v) = f.metrics_access {
                s.metrics_access = MetricsAccess::parse(&v).ok_or_else(|| ConfigError::File {
                    file: file.clone(),
                    message: format!("metrics_access: '{v}' is not loopback, public or signed-in"),
                })?;
            }
            if let Some(v) = f.trusted_proxies {
                s.trusted_proxies = v;
            }
            if let Some(v) = f.max_decompressed_mb {
                s.max_decompressed_mb = Some(v);
            }
            if let Some(v) = f.max_compression_ratio {
                s.max_compression_ratio = v;
            }
            if let Some(v) = f.session_hours {
                s.session_hours = v;
            }
            if let Some(v) = f.detect_anomalies {
                s.detect_anomalies = v;
            }
            if let Some(v) = f.alert_every_minutes {
                s.alert_every_minutes = v;
            }
            if let Some(v) = f.public_url {
                s.public_url = Some(v.trim_end_matches('/').to_string()).filter(|v| !v.is_empty());
            }
            if let Some(v) = f.pull_cost_explorer {
                s.pull_cost_explorer = v;
            }
            if let Some(v) = f.schedule_tick_seconds {
                s.schedule_tick_seconds = v;
            }
            if let Some(v) = f.pull_utilisation {
                s.pull_utilisation = v;
            }
            if let Some(v) = f.warm_pages {
                s.warm_pages = v;
            }
            if let Some(v) = f.cloudwatch_endpoint_url {
                s.cloudwatch_endpoint_url = Some(v).filter(|v| !v.is_empty());
            }
            for export in f.s3_export.unwrap_or_default() {
                crate::pull::s3_export::layout::ExportUri::parse(&export.uri).map_err(
                    |message| ConfigError::File {
                        file: file.clone(),
                        message: format!("s3_export: {message}"),
                    },
                )?;
                if let Some(f) = &export.format {
                    if crate::pull::s3_export::parse_format(f).is_err() {
                        return Err(ConfigError::File {
                            file: file.clone(),
                            message: format!(
                                "s3_export {}: format '{f}' is not auto, cur or focus",
                                export.uri
                            ),
                        });
                    }
                }
                s.s3_exports.push(export);
            }
            for channel in f.alert_channel.unwrap_or_default() {
                let c = channel.resolve(env).map_err(|message| ConfigError::File {
                    file: file.clone(),
                    message,
                })?;
                if s.alert_channels.iter().any(|o| o.name == c.name) {
                    return Err(ConfigError::File {
                        file: file.clone(),
                        message: format!("alert_channel '{}' is named twice", c.name),
                    });
                }
                s.alert_channels.push(c);
            }
        }
        if let Some(v) = env("FINOPS_DATABASE_URL") {
            s.database_url = v;
        }
        if let Some(v) = env("FINOPS_BIND") {
            s.bind = v;
        }
        if let Some(v) = env("FINOPS_POOL_SIZE") {
            s.pool_size = v.trim().parse().map_err(|_| ConfigError::Env {
                name: "FINOPS_POOL_SIZE".into(),
                message: format!("'{v}' is not a whole number"),
            })?;
        }
        if let Some(v) = env("FINOPS_LOG") {
            s.log = v;
        }
        if let Some(v) = env("FINOPS_LOG_FORMAT") {
            s.log_format =
                crate::telemetry::LogFormat::parse(&v).ok_or_else(|| ConfigError::Env {
                    name: "FINOPS_LOG_FORMAT".into(),
                    message: format!("'{v}' is not text or json"),
                })?;
        }
        if let Some(v) = env("FINOPS_METRICS") {
            s.metrics = on_off("FINOPS_METRICS", &v)?;
        }
        if let Some(v) = env("FINOPS_METRICS_PUBLIC") {
            s.metrics_access = legacy_metrics_public(on_off("FINOPS_METRICS_PUBLIC", &v)?);
        }
        if let Some(v) = env("FINOPS_METRICS_ACCESS") {
            s.metrics_access = MetricsAccess::parse(&v).ok_or_else(|| ConfigError::Env {
                name: "FINOPS_METRICS_ACCESS".into(),
                message: format!("'{v}' is not loopback, public or signed-in"),
            })?;
        }
        if let Some(v) = env("FINOPS_TRUSTED_PROXIES") {
            s.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(v) = env("FINOPS_MAX_DECOMPRESSED_MB") {
            s.max_decompressed_mb = Some(whole("FINOPS_MAX_DECOMPRESSED_MB", &v)?);
        }
        if let Some(v) = env("FINOPS_MAX_COMPRESSION_RATIO") {
            s.max_compression_ratio = whole("FINOPS_MAX_COMPRESSION_RATIO", &v)?;
        }
        if let Some(v) = env("FINOPS_SESSION_HOURS") {
            s.session_hours = v.trim().parse().map_err(|_| ConfigError::Env {
                name: "FINOPS_SESSION_HOURS".into(),
                message: format!("'{v}' is not a whole number"),
            })?;
        }
        if let Some(v) = env("FINOPS_PULL_EVERY_HOURS") {
            s.pull_every_hours = v.trim().parse().map_err(|_| ConfigError::Env {
                name: "FINOPS_PULL_EVERY_HOURS".into(),
                message: format!("'{v}' is not a whole number"),
            })?;
        }
        if let Some(v) = env("FINOPS_COST_EXPLORER_ENDPOINT_URL") {
            s.cost_explorer_endpoint_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("FINOPS_ALERT_EVERY_MINUTES") {
            s.alert_every_minutes = v.trim().parse().map_err(|_| ConfigError::Env {
                name: "FINOPS_ALERT_EVERY_MINUTES".into(),
                message: format!("'{v}' is not a whole number"),
            })?;
        }
        if let Some(v) = env("FINOPS_DETECT_ANOMALIES") {
            s.detect_anomalies = on_off("FINOPS_DETECT_ANOMALIES", &v)?;
        }
        if let Some(v) = env("FINOPS_PUBLIC_URL") {
            s.public_url = Some(v.trim_end_matches('/').to_string()).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("FINOPS_UPLOAD_LIMIT_MB") {
            s.upload_limit_mb = v.trim().parse().map_err(|_| ConfigError::Env {
                name: "FINOPS_UPLOAD_LIMIT_MB".into(),
                message: format!("'{v}' is not a whole number"),
            })?;
        }
        if let Some(v) = &overrides.database_url {
            s.database_url = v.clone();
        }
        if let Some(v) = &overrides.bind {
            s.bind = v.clone();
        }
        if s.pool_size == 0 || s.pool_size > 256 {
            return Err(ConfigError::Env {
                name: "pool_size".into(),
                message: format!("{} is out of range 1..=256", s.pool_size),
            });
        }
        if s.session_hours == 0 || s.session_hours > 24 * 30 {
            return Err(ConfigError::Env {
                name: "session_hours".into(),
                message: format!("{} is out of range 1..=720", s.session_hours),
            });
        }
        if s.schedule_tick_seconds == 0 {
            return Err(ConfigError::Env {
                name: "schedule_tick_seconds".into(),
                message: "must be at least 1".into(),
            });
        }
        if s.upload_limit_mb == 0 {
            return Err(ConfigError::Env {
                name: "upload_limit_mb".into(),
                message: "must be at least 1".into(),
            });
        }
        if s.max_decompressed_mb == Some(0) || s.max_compression_ratio < 2 {
            return Err(ConfigError::Env {
                name: "max_decompressed_mb / max_compression_ratio".into(),
                message: "must be at least 1 MiB and a ratio of at least 2".into(),
            });
        }
        crate::web::client::TrustedProxies::parse(&s.trusted_proxies).map_err(|message| {
            ConfigError::Env {
                name: "trusted_proxies".into(),
                message,
            }
        })?;
        Ok(s)
    }
}

/// `metrics_public` as it was before `metrics_access`.
fn legacy_metrics_public(public: bool) -> MetricsAccess {
    if public {
        MetricsAccess::Public
    } else {
        MetricsAccess::SignedIn
    }
}

/// A whole-number environment value.
fn whole(name: &str, v: &str) -> Result<u64, ConfigError> {
    v.trim().parse().map_err(|_| ConfigError::Env {
        name: name.into(),
        message: format!("'{v}' is not a whole number"),
    })
}

/// An on/off environment value.
fn on_off(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        _ => Err(ConfigError::Env {
            name: name.into(),
            message: format!("'{v}' is not on or off"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_environment_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("finops.toml");
        std::fs::write(
            &file,
            "database_url = \"sqlite://file.db\"\nbind = \"0.0.0.0:1\"\npool_size = 3\n",
        )
        .unwrap();
        let env = |name: &str| match name {
            "FINOPS_BIND" => Some("127.0.0.1:2".to_string()),
            _ => None,
        };
        let s = Settings::load_from(Some(&file), &Overrides::default(), &env).unwrap();
        assert_eq!(s.database_url, "sqlite://file.db");
        assert_eq!(s.bind, "127.0.0.1:2");
        assert_eq!(s.pool_size, 3);
        let o = Overrides {
            database_url: Some("postgres://x@y/z".into()),
            bind: None,
        };
        let s = Settings::load_from(Some(&file), &o, &env).unwrap();
        assert_eq!(s.database_url, "postgres://x@y/z");
    }

    #[test]
    fn access_proxies_and_decompression_settings() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("finops.toml");
        std::fs::write(
            &file,
            "metrics_access = \"public\"\ntrusted_proxies = [\"10.0.0.0/8\"]\nupload_limit_mb = 4\n",
        )
        .unwrap();
        let s = Settings::load_from(Some(&file), &Overrides::default(), &|_| None).unwrap();
        assert_eq!(s.metrics_access, MetricsAccess::Public);
        assert_eq!(s.trusted_proxies, vec!["10.0.0.0/8"]);
        assert_eq!(s.decompress_limits().max_bytes, 128 * 1024 * 1024);
        assert_eq!(s.decompress_limits().max_ratio, 200);
        let env = |name: &str| match name {
            "FINOPS_METRICS_PUBLIC" => Some("off".to_string()),
            "FINOPS_TRUSTED_PROXIES" => Some("127.0.0.1, ::1".to_string()),
            "FINOPS_MAX_DECOMPRESSED_MB" => Some("10".to_string()),
            _ => None,
        };
        let s = Settings::load_from(Some(&file), &Overrides::default(), &env).unwrap();
        assert_eq!(s.metrics_access, MetricsAccess::SignedIn);
        assert_eq!(s.trusted_proxies, vec!["127.0.0.1", "::1"]);
        assert_eq!(s.decompress_limits().max_bytes, 10 * 1024 * 1024);
        assert_eq!(Settings::default().metrics_access, MetricsAccess::Loopback);
        let bad = |name: &'static str, value: &'static str| {
            move |n: &str| (n == name).then(|| value.to_string())
        };
        for (name, value) in [
            ("FINOPS_TRUSTED_PROXIES", "10.0.0.0/40"),
            ("FINOPS_METRICS_ACCESS", "sometimes"),
            ("FINOPS_MAX_COMPRESSION_RATIO", "1"),
        ] {
            let e = Settings::load_from(None, &Overrides::default(), &bad(name, value));
            assert!(e.is_err(), "{name}={value}");
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("finops.toml");
        std::fs::write(&file, "databse_url = \"x\"\n").unwrap();
        let e = Settings::load_from(Some(&file), &Overrides::default(), &|_| None).unwrap_err();
        assert!(e.to_string().contains("databse_url"), "{e}");
    }
}
