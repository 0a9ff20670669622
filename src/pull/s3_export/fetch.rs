//! The S3 requests of an export pull, through `aws-sdk-s3`: listings,
//! a manifest's ETag, small reads, and downloads streamed to a file.
//! Throttling and 5xx answers are retried with backoff by the SDK's
//! standard retry mode; a download that breaks off mid-stream is started
//! again (at most [`DOWNLOAD_TRIES`] times).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use aws_config::Region;
use aws_sdk_s3::error::DisplayErrorContext;

use super::layout::Listed;
use super::S3PullError;

/// Attempts at one object's download.
pub const DOWNLOAD_TRIES: u32 = 3;

/// Where to connect and as whom.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Connection {
    /// Another endpoint than AWS's (an emulator, a VPC endpoint); addresses
    /// buckets by path.
    pub endpoint_url: Option<String>,
    /// The bucket's region; the standard chain's (`AWS_REGION`, the
    /// profile) when `None`, else us-east-1.
    pub region: Option<String>,
    /// Fixed credentials (access key id, secret) instead of the standard
    /// AWS chain: for an emulator.
    pub static_credentials: Option<(String, String)>,
    /// Attempts per request, throttling and 5xx included.
    pub max_attempts: u32,
}

/// An S3 client that counts its requests.
pub struct S3 {
    client: aws_sdk_s3::Client,
    pub requests: usize,
}

fn request_error<E>(
    what: String,
    e: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> S3PullError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::debug!(error = %DisplayErrorContext(&e), "S3 request failed");
    S3PullError::Request {
        what,
        message: crate::pull::aws::brief_error(&e),
    }
}

impl S3 {
    pub async fn connect(c: &Connection) -> S3 {
        let mut loader = crate::pull::aws::loader(
            c.endpoint_url.as_deref(),
            c.static_credentials.as_ref(),
            c.max_attempts,
        );
        if let Some(region) = &c.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let config = loader.load().await;
        let mut builder = aws_sdk_s3::config::Builder::from(&config);
        if config.region().is_none() {
            builder = builder.region(Region::new("us-east-1"));
        }
        if c.endpoint_url.is_some() {
            builder = builder.force_path_style(true);
        }
        S3 {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            requests: 0,
        }
    }

    /// Every object under `prefix` (with `delimiter`, only the first level,
    /// and the folders below as common prefixes), all pages.
    pub async fn list(
        &mut self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> Result<(Vec<Listed>, Vec<String>), S3PullError> {
        let mut objects = Vec::new();
        let mut folders = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.requests += 1;
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_string))
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|e| request_error(format!("listing s3://{bucket}/{prefix}"), e))?;
            for o in page.contents() {
                objects.push(Listed {
                    key: o.key().unwrap_or_default().to_string(),
                    etag: o.e_tag().unwrap_or_default().to_string(),
                    modified: o.last_modified().map(|t| t.secs()).unwrap_or(0),
                    size: o.size().unwrap_or(0),
                });
            }
            folders.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_string)),
            );
            token = page.next_continuation_token().map(str::to_string);
            if !page.is_truncated().unwrap_or(false) || token.is_none() {
                break;
            }
        }
        Ok((objects, folders))
    }

    /// The ETag of `key`, or `None` when there is no such object.
    pub async fn etag(&mut self, bucket: &str, key: &str) -> Result<Option<String>, S3PullError> {
        self.requests += 1;
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(head.e_tag().unwrap_or_default().to_string())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(request_error(format!("reading s3://{bucket}/{key}"), e)),
        }
    }

    /// A small object (a manifest) in memory, refused past `max` bytes.
    pub async fn read_small(
        &mut self,
        bucket: &str,
        key: &str,
        max: u64,
    ) -> Result<Vec<u8>, S3PullError> {
        let mut out = Vec::new();
        self.stream(bucket, key, max, &mut out, &mut |_| {}).await?;
        Ok(out)
    }

    /// Streams `key` into a new file at `path`, retrying a broken download;
    /// refuses an object over `max` bytes. Returns its size.
    pub async fn download(
        &mut self,
        bucket: &str,
        key: &str,
        path: &Path,
        max: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, S3PullError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let file = std::fs::File::create(path).map_err(|e| S3PullError::Io {
                what: path.display().to_string(),
                message: e.to_string(),
            })?;
            let mut out = std::io::BufWriter::new(file);
            match self.stream(bucket, key, max, &mut out, progress).await {
                Ok(n) => {
                    out.flush().map_err(|e| S3PullError::Io {
                        what: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                    return Ok(n);
                }
                Err(S3PullError::Broken { .. }) if attempt < DOWNLOAD_TRIES => {
                    let wait = Duration::from_millis(500 * (1 << attempt));
                    tracing::warn!(key, attempt, "download broke off; trying again");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn stream(
        &mut self,
        bucket: &str,
        key: &str,
        max: u64,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, S3PullError> {
        let at = format!("s3://{bucket}/{key}");
        self.requests += 1;
        let object = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| request_error(format!("reading {at}"), e))?;
        if let Some(size) = object.content_length().filter(|n| *n as u64 > max) {
            return Err(S3PullError::TooLarge {
                what: at,
                bytes: size as u64,
                limit: max,
            });
        }
        let mut body = object.body;
        let mut written: u64 = 0;
        loop {
            let chunk = match body.try_next().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    return Err(S3PullError::Broken {
                        what: at,
                        message: e.to_string(),
                    })
                }
            };
            written += chunk.len() as u64;
            if written > max {
                return Err(S3PullError::TooLarge {
                    what: at,
                    bytes: written,
                    limit: max,
                });
            }
            out.write_all(&chunk).map_err(|e| S3PullError::Io {
                what: at.clone(),
                message: e.to_string(),
            })?;
            progress(written);
        }
        Ok(written)
    }
}
