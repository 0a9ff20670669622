//! Pulling billing exports from S3: AWS Data Exports (CUR 2.0, FOCUS 1.0)
//! and legacy Cost and Usage Reports, as AWS delivers them several times
//! a day (see [`layout`]).
//!
//! A pull lists the export's manifests (Data Exports: one listing gives
//! every period's manifest and its ETag; legacy reports: one listing of
//! the period folders and one HEAD per period), and re-imports only the
//! periods whose manifest's ETag differs from the one imported last. A
//! changed period's files are streamed to temporary files and imported
//! together through the billing import ([`crate::ingest::import_delivery`]):
//! one transaction replaces the period, and records the manifest imported
//! in the same transaction. A period that fails (a corrupt object, a bad
//! row) changes nothing, is recorded as a failed run, and is tried again
//! by the next pull; the other periods go on.

pub mod fetch;
pub mod layout;

use std::collections::BTreeMap;

use crate::db::export_deliveries::{self, Imported};
use crate::db::{DbConnection, DbError};
use crate::ingest::{self, BillingFormat, Delivery, ImportError, Input, Limits};
use fetch::{Connection, S3};
use layout::{ExportUri, PeriodManifest};

/// Largest manifest read (real ones are tens of KiB: the column list and
/// the files).
const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum S3PullError {
    #[error("{0}")]
    Address(String),
    #[error("{what} failed: {message}")]
    Request { what: String, message: String },
    #[error("{what}: the download broke off ({message})")]
    Broken { what: String, message: String },
    #[error(
        "{what} is {bytes} bytes, more than the {limit} bytes a pull takes (max_decompressed_mb)"
    )]
    TooLarge {
        what: String,
        bytes: u64,
        limit: u64,
    },
    #[error("{what}: {message}")]
    Io { what: String, message: String },
    #[error("{0}")]
    Manifest(String),
    #[error("no billing export under {uri}: no Data Exports manifest (metadata/BILLING_PERIOD=YYYY-MM/{name}-Manifest.json) and no legacy report period folder (yyyymmdd-yyyymmdd/{name}-Manifest.json)")]
    NothingFound { uri: String, name: String },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What to pull.
#[derive(Clone, Debug)]
pub struct S3ExportOptions {
    pub uri: ExportUri,
    pub connection: Connection,
    /// FOCUS or CUR; `None` tells them apart by the columns.
    pub format: Option<BillingFormat>,
    /// How large a file may be, compressed or not.
    pub limits: Limits,
    /// Import every period again, changed or not.
    pub all: bool,
}

/// `--format` / `format`: `auto` (FOCUS or CUR by the columns), `cur`
/// or `focus`.
pub fn parse_format(text: &str) -> Result<Option<BillingFormat>, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "auto" => Ok(None),
        "cur" => Ok(Some(BillingFormat::Cur)),
        "focus" => Ok(Some(BillingFormat::Focus)),
        other => Err(format!("'{other}' is not auto, cur or focus")),
    }
}

/// The options of an `[[s3_export]]` setting.
pub fn options_from_setting(
    export: &crate::config::S3ExportSetting,
    settings: &crate::config::Settings,
) -> Result<S3ExportOptions, String> {
    Ok(S3ExportOptions {
        uri: ExportUri::parse(&export.uri)?,
        connection: Connection {
            endpoint_url: export.endpoint_url.clone(),
            region: export.region.clone(),
            static_credentials: None,
            max_attempts: 5,
        },
        format: parse_format(export.format.as_deref().unwrap_or("auto"))?,
        limits: settings.decompress_limits(),
        all: false,
    })
}

/// Which layout the export has.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    DataExports,
    LegacyReport,
}

/// What became of one billing period.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum PeriodOutcome {
    Unchanged {
        period: String,
    },
    Imported {
        period: String,
        files: usize,
        bytes: u64,
        rows: u64,
        ingest_run_id: i64,
    },
    Failed {
        period: String,
        error: String,
    },
}

impl PeriodOutcome {
    pub fn period(&self) -> &str {
        match self {
            PeriodOutcome::Unchanged { period }
            | PeriodOutcome::Imported { period, .. }
            | PeriodOutcome::Failed { period, .. } => period,
        }
    }
}

/// What a pull did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct S3PullSummary {
    pub export: String,
    pub layout: Layout,
    pub requests: usize,
    pub periods: Vec<PeriodOutcome>,
}

impl S3PullSummary {
    pub fn imported(&self) -> usize {
        self.periods
            .iter()
            .filter(|p| matches!(p, PeriodOutcome::Imported { .. }))
            .count()
    }

    pub fn failed(&self) -> Vec<&PeriodOutcome> {
        self.periods
            .iter()
            .filter(|p| matches!(p, PeriodOutcome::Failed { .. }))
            .collect()
    }

    /// One line for logs and the Data sources page.
    pub fn line(&self) -> String {
        let unchanged = self
            .periods
            .iter()
            .filter(|p| matches!(p, PeriodOutcome::Unchanged { .. }))
            .count();
        let mut line = format!(
            "{}: {} period(s) imported, {} unchanged, {} failed; {} request(s) to S3",
            self.export,
            self.imported(),
            unchanged,
            self.failed().len(),
            self.requests
        );
        for f in self.failed() {
            if let PeriodOutcome::Failed { period, error } = f {
                line.push_str(&format!("\n{period}: {error}"));
            }
        }
        line
    }
}

/// Progress of a pull, for a progress bar.
#[derive(Clone, Debug, PartialEq)]
pub enum S3Progress {
    /// Periods found and how many changed.
    Found { periods: usize, changed: usize },
    /// Downloading file `file` of `files` of a period: bytes so far.
    Downloading {
        period: String,
        file: usize,
        files: usize,
        key: String,
        bytes: u64,
    },
    /// Importing a period.
    Importing { period: String },
}

/// The manifests of the export, and which layout it has.
async fn manifests(
    s3: &mut S3,
    uri: &ExportUri,
) -> Result<(Layout, Vec<PeriodManifest>), S3PullError> {
    let (listed, _) = s3.list(&uri.bucket, &uri.metadata_prefix(), None).await?;
    let found = layout::data_export_manifests(uri, &listed);
    if !found.is_empty() {
        return Ok((Layout::DataExports, found));
    }
    let (_, folders) = s3
        .list(&uri.bucket, &uri.folder_prefix(), Some("/"))
        .await?;
    let mut found = Vec::new();
    for folder in folders {
        let name = folder
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        let Some(period) = layout::legacy_folder_period(name) else {
            continue;
        };
        let key = layout::legacy_manifest_key(uri, &folder);
        if let Some(etag) = s3.etag(&uri.bucket, &key).await? {
            found.push(PeriodManifest { period, key, etag });
        }
    }
    if found.is_empty() {
        return Err(S3PullError::NothingFound {
            uri: uri.to_string(),
            name: uri.name().to_string(),
        });
    }
    Ok((Layout::LegacyReport, found))
}

/// Pulls the export: imports each billing period whose manifest changed
/// since its last import (every period with `opts.all`). Blocking: runs
/// its own runtime for the S3 requests, so call it from a thread that may
/// block (the CLI, or a scheduled job's thread).
pub fn pull(
    conn: &mut DbConnection,
    opts: &S3ExportOptions,
    progress: &mut dyn FnMut(S3Progress),
) -> Result<S3PullSummary, S3PullError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| S3PullError::Io {
            what: "starting the S3 client".to_string(),
            message: e.to_string(),
        })?;
    let uri = &opts.uri;
    let export = uri.to_string();
    let mut s3 = runtime.block_on(S3::connect(&opts.connection));
    let (layout, found) = runtime.block_on(manifests(&mut s3, uri))?;
    let known: BTreeMap<String, Imported> = export_deliveries::of_export(conn, &export)?
        .into_iter()
        .map(|d| (d.billing_period.clone(), d))
        .collect();
    let changed = |m: &PeriodManifest| {
        opts.all
            || known
                .get(&m.period)
                .is_none_or(|k| k.manifest_etag != m.etag || k.manifest_key != m.key)
    };
    progress(S3Progress::Found {
        periods: found.len(),
        changed: found.iter().filter(|m| changed(m)).count(),
    });
    let mut periods = Vec::with_capacity(found.len());
    for manifest in &found {
        if !changed(manifest) {
            periods.push(PeriodOutcome::Unchanged {
                period: manifest.period.clone(),
            });
            continue;
        }
        // The period's earlier delivery from this export, if any, is what
        // this one replaces.
        let earlier: Vec<i64> = known
            .get(&manifest.period)
            .map(|k| k.ingest_run_id)
            .into_iter()
            .collect();
        let outcome = match import_period(
            conn, &runtime, &mut s3, opts, manifest, earlier, progress,
        ) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(export = %export, period = %manifest.period, error = %e, "export period not imported");
                if !matches!(e, S3PullError::Import(_)) {
                    // An import records its own failed run; a download
                    // failure is recorded here.
                    let failure = ImportError::Io {
                        file: format!("{export} {}", manifest.period),
                        message: e.to_string(),
                    };
                    ingest::record_failure(
                        conn,
                        opts.format.unwrap_or(BillingFormat::Cur).source(),
                        &format!(
                            "{export} BILLING_PERIOD={} (not downloaded)",
                            manifest.period
                        ),
                        crate::clock::now(),
                        &failure,
                    );
                }
                PeriodOutcome::Failed {
                    period: manifest.period.clone(),
                    error: match &e {
                        S3PullError::Import(i) => i.details().join("\n"),
                        other => other.to_string(),
                    },
                }
            }
        };
        periods.push(outcome);
    }
    Ok(S3PullSummary {
        export,
        layout,
        requests: s3.requests,
        periods,
    })
}

fn import_period(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Runtime,
    s3: &mut S3,
    opts: &S3ExportOptions,
    manifest: &PeriodManifest,
    earlier: Vec<i64>,
    progress: &mut dyn FnMut(S3Progress),
) -> Result<PeriodOutcome, S3PullError> {
    let uri = &opts.uri;
    let body = runtime.block_on(s3.read_small(&uri.bucket, &manifest.key, MAX_MANIFEST_BYTES))?;
    let parsed =
        layout::parse_manifest(uri, &manifest.key, &body).map_err(S3PullError::Manifest)?;
    let dir = tempfile::Builder::new()
        .prefix("finops-s3-")
        .tempdir()
        .map_err(|e| S3PullError::Io {
            what: "a temporary folder".to_string(),
            message: e.to_string(),
        })?;
    let mut inputs = Vec::with_capacity(parsed.keys.len());
    let mut bytes = 0u64;
    for (i, key) in parsed.keys.iter().enumerate() {
        let path = dir.path().join(layout::local_name(i + 1, key));
        let files = parsed.keys.len();
        let mut report = |n: u64| {
            progress(S3Progress::Downloading {
                period: manifest.period.clone(),
                file: i + 1,
                files,
                key: key.clone(),
                bytes: n,
            })
        };
        bytes += runtime.block_on(s3.download(
            &uri.bucket,
            key,
            &path,
            opts.limits.max_bytes,
            &mut report,
        ))?;
        inputs.push(
            Input::new(&path)
                .named(format!("s3://{}/{key}", uri.bucket))
                .with_limits(opts.limits),
        );
    }
    progress(S3Progress::Importing {
        period: manifest.period.clone(),
    });
    let export = uri.to_string();
    let delivery = Delivery {
        label: format!(
            "{export} BILLING_PERIOD={} ({} file(s){})",
            manifest.period,
            inputs.len(),
            if parsed.delivery_id.is_empty() {
                String::new()
            } else {
                format!(", delivery {}", parsed.delivery_id)
            }
        ),
        inputs: &inputs,
        format: opts.format,
        period: Some(manifest.period.clone()),
        replaces_runs: Some(earlier),
    };
    let files = inputs.len();
    let summary = ingest::import_delivery(conn, &delivery, &mut |_| {}, &mut |conn, run_id| {
        export_deliveries::record(
            conn,
            &Imported {
                export_uri: export.clone(),
                billing_period: manifest.period.clone(),
                manifest_key: manifest.key.clone(),
                manifest_etag: manifest.etag.clone(),
                delivery_id: parsed.delivery_id.clone(),
                files: files as i64,
                bytes: bytes as i64,
                ingest_run_id: run_id,
                imported_at: crate::clock::now(),
            },
        )
    })?;
    Ok(PeriodOutcome::Imported {
        period: manifest.period.clone(),
        files,
        bytes,
        rows: summary.rows_read,
        ingest_run_id: summary.ingest_run_id,
    })
}
