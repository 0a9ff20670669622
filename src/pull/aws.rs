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
/// and message, or the innermost cause (a refused connection, missing
/// credentials), never the whole debug dump.
pub fn brief_error<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_sdk_s3::error::SdkError;
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, Some(message)) => message.to_string(),
                (None, None) => innermost(err),
            }
        }
        SdkError::TimeoutError(_) => "no answer in time (timed out)".to_string(),
        SdkError::DispatchFailure(_) => format!("could not reach the endpoint: {}", innermost(e)),
        _ => innermost(e),
    }
}

/// The message of the deepest cause of `e`.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
