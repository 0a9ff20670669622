//! Where AWS puts billing exports in S3 and what their manifests say: pure
//! functions over keys and JSON, so the layouts are tested without S3.
//!
//! Two layouts:
//! - **Data Exports** (CUR 2.0, FOCUS 1.0):
//!   `<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/…` and one manifest per
//!   period, `<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`,
//!   rewritten on every refresh; with the "create new export file" option
//!   each execution writes under its own folder inside the partition, so
//!   a period may have several manifests: the newest is the delivery.
//!   The manifest's `dataFiles` lists the period's files as `s3://` URIs
//!   and `executionId` names the delivery.
//! - **Legacy Cost and Usage Reports**: `<prefix>/<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json`
//!   per billing period, whose `reportKeys` list the files (keys in the
//!   bucket, under `<assemblyId>/`) and `assemblyId` names the delivery.

use chrono::NaiveDate;

/// An export's place: `s3://BUCKET/PREFIX/EXPORT-NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportUri {
    pub bucket: String,
    /// The key prefix of the export (`PREFIX/EXPORT-NAME`), no slashes
    /// at either end.
    pub root: String,
}

impl ExportUri {
    pub fn parse(text: &str) -> Result<ExportUri, String> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{text}: an export is named s3://BUCKET/PREFIX/EXPORT-NAME"))?;
        let (bucket, root) = rest.split_once('/').unwrap_or((rest, ""));
        let root = root.trim_matches('/');
        if bucket.is_empty() || root.is_empty() {
            return Err(format!(
                "{text}: give the bucket and the export's prefix, s3://BUCKET/PREFIX/EXPORT-NAME"
            ));
        }
        Ok(ExportUri {
            bucket: bucket.to_string(),
            root: root.to_string(),
        })
    }

    /// The export's (or report's) name: the last part of the prefix.
    pub fn name(&self) -> &str {
        self.root.rsplit('/').next().unwrap_or(&self.root)
    }

    /// Where Data Exports write manifests.
    pub fn metadata_prefix(&self) -> String {
        format!("{}/metadata/", self.root)
    }

    /// Where legacy reports put their period folders.
    pub fn folder_prefix(&self) -> String {
        format!("{}/", self.root)
    }
}

impl std::fmt::Display for ExportUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.root)
    }
}

/// An object as a listing shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub etag: String,
    /// Seconds since the epoch.
    pub modified: i64,
    pub size: i64,
}

/// A billing period's manifest as found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodManifest {
    /// `YYYY-MM`.
    pub period: String,
    pub key: String,
    pub etag: String,
}

/// The `YYYY-MM` of a partition folder `BILLING_PERIOD=YYYY-MM` (any
/// case of the name, as AWS's exports and users' copies write it).
fn partition_period(part: &str) -> Option<String> {
    let (name, value) = part.split_once('=')?;
    if !name.eq_ignore_ascii_case("billing_period") {
        return None;
    }
    month(value)
}

fn month(value: &str) -> Option<String> {
    let date = NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d").ok()?;
    (value.len() == 7).then(|| date.format("%Y-%m").to_string())
}

/// The Data Exports manifests among `listed` (keys under the metadata
/// prefix), the newest per billing period.
pub fn data_export_manifests(uri: &ExportUri, listed: &[Listed]) -> Vec<PeriodManifest> {
    let prefix = uri.metadata_prefix();
    let mut newest: std::collections::BTreeMap<String, &Listed> = Default::default();
    for object in listed {
        let Some(rest) = object.key.strip_prefix(&prefix) else {
            continue;
        };
        if !rest.ends_with("-Manifest.json") {
            continue;
        }
        let Some(period) = rest.split('/').find_map(partition_period) else {
            continue;
        };
        let entry = newest.entry(period).or_insert(object);
        if (object.modified, &object.key) > (entry.modified, &entry.key) {
            *entry = object;
        }
    }
    newest
        .into_iter()
        .map(|(period, o)| PeriodManifest {
            period,
            key: o.key.clone(),
            etag: o.etag.clone(),
        })
        .collect()
}

/// The billing period of a legacy report folder `yyyymmdd-yyyymmdd`.
pub fn legacy_folder_period(folder: &str) -> Option<String> {
    let (start, end) = folder.trim_end_matches('/').split_once('-')?;
    let start = NaiveDate::parse_from_str(start, "%Y%m%d").ok()?;
    let end = NaiveDate::parse_from_str(end, "%Y%m%d").ok()?;
    (start < end).then(|| start.format("%Y-%m").to_string())
}

/// The key of a legacy report's manifest for the period folder `folder`
/// (a common prefix ending in `/`).
pub fn legacy_manifest_key(uri: &ExportUri, folder: &str) -> String {
    format!("{}{}-Manifest.json", folder, uri.name())
}

/// What a manifest says a delivery is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// `executionId` or `assemblyId` (empty when the manifest has none).
    pub delivery_id: String,
    /// Keys of the data files, in the export's bucket.
    pub keys: Vec<String>,
}

/// Reads a manifest of either layout. `manifest_key` names it in errors.
pub fn parse_manifest(
    uri: &ExportUri,
    manifest_key: &str,
    body: &[u8],
) -> Result<Manifest, String> {
    let at = format!("s3://{}/{manifest_key}", uri.bucket);
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("{at}: not a JSON manifest ({e})"))?;
    let id = ["executionId", "assemblyId"]
        .iter()
        .find_map(|k| json.get(*k).and_then(|v| v.as_str()))
        .unwrap_or_default()
        .to_string();
    let mut keys = Vec::new();
    if let Some(files) = json.get("dataFiles").and_then(|v| v.as_array()) {
        for f in files {
            let text = f
                .as_str()
                .ok_or_else(|| format!("{at}: dataFiles holds a value that is not text"))?;
            let rest = text
                .strip_prefix("s3://")
                .ok_or_else(|| format!("{at}: data file {text} is not an s3:// address"))?;
            let (bucket, key) = rest
                .split_once('/')
                .ok_or_else(|| format!("{at}: data file {text} has no key"))?;
            if bucket != uri.bucket {
                return Err(format!(
                    "{at}: data file {text} is in another bucket than the export's ({})",
                    uri.bucket
                ));
            }
            keys.push(key.to_string());
        }
    } else if let Some(files) = json.get("reportKeys").and_then(|v| v.as_array()) {
        if let Some(bucket) = json.get("bucket").and_then(|v| v.as_str()) {
            if bucket != uri.bucket {
                return Err(format!(
                    "{at}: the report is in bucket {bucket}, not {}",
                    uri.bucket
                ));
            }
        }
        for f in files {
            let key = f
                .as_str()
                .ok_or_else(|| format!("{at}: reportKeys holds a value that is not text"))?;
            keys.push(key.trim_start_matches('/').to_string());
        }
    } else {
        return Err(format!(
            "{at}: the manifest lists no files (neither dataFiles nor reportKeys)"
        ));
    }
    // A file listed twice is one file (it must not count twice).
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    Ok(Manifest {
        delivery_id: id,
        keys,
    })
}

/// A file name for a key's local copy (the key's last part, safe on any
/// file system), numbered so that parts never collide.
pub fn local_name(index: usize, key: &str) -> String {
    let last = key.rsplit('/').next().unwrap_or(key);
    let safe: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{index:04}-{safe}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(key: &str, etag: &str, modified: i64) -> Listed {
        Listed {
            key: key.to_string(),
            etag: etag.to_string(),
            modified,
            size: 10,
        }
    }

    #[test]
    fn export_addresses_name_bucket_prefix_and_export() {
        let u = ExportUri::parse("s3://billing/exports/game-cur2/").unwrap();
        assert_eq!(u.bucket, "billing");
        assert_eq!(u.root, "exports/game-cur2");
        assert_eq!(u.name(), "game-cur2");
        assert_eq!(u.metadata_prefix(), "exports/game-cur2/metadata/");
        assert_eq!(u.to_string(), "s3://billing/exports/game-cur2");
        assert!(ExportUri::parse("billing/exports").is_err());
        assert!(ExportUri::parse("s3://billing").is_err());
        assert!(ExportUri::parse("s3:///x").is_err());
    }

    #[test]
    fn the_newest_manifest_of_each_period_is_the_delivery() {
        let u = ExportUri::parse("s3://b/p/cur2").unwrap();
        let found = data_export_manifests(
            &u,
            &[
                listed(
                    "p/cur2/metadata/BILLING_PERIOD=2026-10/cur2-Manifest.json",
                    "\"a\"",
                    5,
                ),
                // Create-new deliveries: one folder per execution.
                listed(
                    "p/cur2/metadata/BILLING_PERIOD=2026-11/exec-1/cur2-Manifest.json",
                    "\"b\"",
                    5,
                ),
                listed(
                    "p/cur2/metadata/BILLING_PERIOD=2026-11/exec-2/cur2-Manifest.json",
                    "\"c\"",
                    9,
                ),
                listed(
                    "p/cur2/metadata/BILLING_PERIOD=2026-11/notes.txt",
                    "\"d\"",
                    10,
                ),
                listed(
                    "p/cur2/metadata/billing_period=2026-12/cur2-Manifest.json",
                    "\"e\"",
                    1,
                ),
                listed(
                    "p/cur2/metadata/BILLING_PERIOD=2026-13/cur2-Manifest.json",
                    "\"f\"",
                    1,
                ),
                listed(
                    "p/other/metadata/BILLING_PERIOD=2026-10/other-Manifest.json",
                    "\"g\"",
                    1,
                ),
            ],
        );
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|m| (m.period.as_str(), m.etag.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-10", "\"a\""),
                ("2026-11", "\"c\""),
                ("2026-12", "\"e\"")
            ]
        );
    }

    #[test]
    fn legacy_period_folders_are_date_ranges() {
        assert_eq!(
            legacy_folder_period("20231101-20231201/").as_deref(),
            Some("2023-11")
        );
        assert_eq!(legacy_folder_period("20231201-20231101"), None);
        assert_eq!(legacy_folder_period("year=2023"), None);
        let u = ExportUri::parse("s3://b/cur/game").unwrap();
        assert_eq!(
            legacy_manifest_key(&u, "cur/game/20231101-20231201/"),
            "cur/game/20231101-20231201/game-Manifest.json"
        );
    }

    #[test]
    fn manifests_of_both_layouts_list_their_files() {
        let u = ExportUri::parse("s3://b/p/cur2").unwrap();
        let data_exports = br#"{"executionId":"e-1","exportArn":"arn:aws:bcm-data-exports:us-east-1:123412340534:export/cur2-x",
            "dataFiles":["s3://b/p/cur2/data/BILLING_PERIOD=2026-10/cur2-00001.snappy.parquet",
                         "s3://b/p/cur2/data/BILLING_PERIOD=2026-10/cur2-00002.snappy.parquet"]}"#;
        let m = parse_manifest(&u, "k", data_exports).unwrap();
        assert_eq!(m.delivery_id, "e-1");
        assert_eq!(m.keys.len(), 2);
        assert!(m.keys[0].starts_with("p/cur2/data/"));
        let legacy = br#"{"assemblyId":"a-9","bucket":"b","reportKeys":["cur/game/20231101-20231201/a-9/game-1.csv.gz"],
            "billingPeriod":{"start":"20231101T000000.000Z","end":"20231201T000000.000Z"}}"#;
        let m = parse_manifest(&u, "k", legacy).unwrap();
        assert_eq!(m.delivery_id, "a-9");
        assert_eq!(m.keys, ["cur/game/20231101-20231201/a-9/game-1.csv.gz"]);
        let elsewhere = br#"{"dataFiles":["s3://other/x.parquet"]}"#;
        assert!(parse_manifest(&u, "k", elsewhere)
            .unwrap_err()
            .contains("another bucket"));
        assert!(parse_manifest(&u, "k", b"{}")
            .unwrap_err()
            .contains("lists no files"));
        assert!(parse_manifest(&u, "k", b"<xml/>")
            .unwrap_err()
            .contains("not a JSON manifest"));
    }

    #[test]
    fn local_names_are_safe_and_distinct() {
        assert_eq!(
            local_name(1, "a/b/cur2-00001.csv.gz"),
            "0001-cur2-00001.csv.gz"
        );
        assert_eq!(local_name(2, "a/b/we ird$.parquet"), "0002-we_ird_.parquet");
    }
}
