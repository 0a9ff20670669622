//! The AWS SDK settings every pull shares: the standard retry mode with
//! backoff, and, for an emulator or a proxy, another endpoint and fixed
//! credentials.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, ConfigLoader};

/// A loader with the standard credential chain (or `static_credentials`:
/// access key id and secret), `endpoint_url` if given, and standard
/// retries: `max_attempts` per request, backoff from 0.5 s to 20 s.
pub fn loader(
    endpoint_url: Option<&str>,
    static_credentials: Option<&(String, String)>,
    max_attempts: u32,
) -> ConfigLoader {
    let retry = RetryConfig::standard()
        .with_max_attempts(max_attempts.max(1))
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20));
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry);
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some((id, secret)) = static_credentials {
        loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
            id.clone(),
            secret.clone(),
            None,
            None,
            "finops-static",
        ));
    }
    loader
}

/// A short account of an SDK error for people: the service's error code
/// and message with the HTTP status, or the innermost cause (a refused
/// connection, missing credentials), never the whole debug dump.
pub fn brief_error<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_s3::error::SdkError;
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            let status = s.raw().status().as_u16();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                (None, Some(message)) => format!("{message} (HTTP {status})"),
                (None, None) => format!("HTTP {status}: {}", first_line(&innermost(err))),
            }
        }
        SdkError::ResponseError(r) => format!(
            "an answer that is not the service's (HTTP {}): {}",
            r.raw().status().as_u16(),
            first_line(&innermost(e))
        ),
        SdkError::TimeoutError(_) => "no answer in time (timed out)".to_string(),
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
            format!(
                "could not reach the endpoint: {}",
                first_line(&innermost(e))
            )
        }
        _ => {
            let cause = innermost(e);
            if cause.to_ascii_lowercase().contains("credential") {
                format!(
                    "no usable AWS credentials (environment, profile, SSO or instance role): {}",
                    first_line(&cause)
                )
            } else {
                format!("the request could not be sent: {}", first_line(&cause))
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text).trim()
}

/// The message of the deepest cause of `e`.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
