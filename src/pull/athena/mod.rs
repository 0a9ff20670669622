//! Bills too big for one machine: Athena sums the CUR 2.0 table where it
//! lies (see [`query`]) and finops imports the answer, a few rows per
//! resource and day, through the CUR import, replacing the billing periods
//! it covers.
//!
//! Requests (`aws-sdk-athena`): a `SELECT * … LIMIT 0` for the table's
//! columns, then the summing query: `StartQueryExecution` in the work
//! group (results to `--output`), `GetQueryExecution` until it ends
//! (waits from 0.5 s, growing to 5 s), then `GetQueryResults` page by page
//! (1,000 rows a page) into a CSV file that the CUR import reads.

pub mod query;

use std::time::Duration;

use aws_config::Region;
use aws_sdk_athena::types::{QueryExecutionState, ResultConfiguration, ResultSet};
use chrono::NaiveDate;

use crate::db::DbConnection;
use crate::ingest::{self, BillingFormat, ImportError, ImportSummary, Input, Limits};

/// Rows a GetQueryResults page holds at most (the API's limit).
const PAGE_ROWS: i32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum AthenaError {
    #[error("{0}")]
    BadInput(String),
    #[error("Athena {what} failed: {message}")]
    Request { what: String, message: String },
    #[error("the Athena query {id} ended {state}: {reason}")]
    QueryFailed {
        id: String,
        state: String,
        reason: String,
    },
    #[error("the Athena query {id} did not finish within {minutes} minutes; it was cancelled")]
    TimedOut { id: String, minutes: u64 },
    #[error("{what}: {message}")]
    Io { what: String, message: String },
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// What to ask Athena and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AthenaOptions {
    pub database: String,
    pub table: String,
    pub workgroup: String,
    /// `s3://…` for the query results (the work group's when `None`).
    pub output: Option<String>,
    /// First billing period (its first day).
    pub from: NaiveDate,
    /// First day after the last billing period.
    pub to: NaiveDate,
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub static_credentials: Option<(String, String)>,
    pub max_attempts: u32,
    /// Longest wait for the query.
    pub timeout: Duration,
    /// First wait between status checks (doubling to 5 s).
    pub poll: Duration,
}

/// What a pull did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AthenaSummary {
    pub query_execution_id: String,
    pub result_rows: u64,
    pub requests: usize,
    pub import: ImportSummary,
}

/// Where result rows go: the column names and one row's values.
type RowSink<'a> = dyn FnMut(&[String], Vec<Option<String>>) -> Result<(), AthenaError> + 'a;

struct Athena {
    client: aws_sdk_athena::Client,
    requests: usize,
}

fn request_error<E>(
    what: &str,
    e: aws_sdk_athena::error::SdkError<E, aws_sdk_athena::config::http::HttpResponse>,
) -> AthenaError
where
    E: aws_sdk_athena::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    AthenaError::Request {
        what: what.to_string(),
        message: super::aws::brief_error(&e),
    }
}

impl Athena {
    async fn connect(opts: &AthenaOptions) -> Athena {
        let mut loader = super::aws::loader(
            opts.endpoint_url.as_deref(),
            opts.static_credentials.as_ref(),
            opts.max_attempts,
        );
        if let Some(region) = &opts.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let config = loader.load().await;
        let mut builder = aws_sdk_athena::config::Builder::from(&config);
        if config.region().is_none() {
            builder = builder.region(Region::new("us-east-1"));
        }
        Athena {
            client: aws_sdk_athena::Client::from_conf(builder.build()),
            requests: 0,
        }
    }

    /// Starts `sql` and waits for it to succeed; its execution id.
    async fn run(&mut self, opts: &AthenaOptions, sql: &str) -> Result<String, AthenaError> {
        self.requests += 1;
        let mut start = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&opts.workgroup);
        if let Some(output) = &opts.output {
            start = start.result_configuration(
                ResultConfiguration::builder()
                    .output_location(output)
                    .build(),
            );
        }
        let started = start
            .send()
            .await
            .map_err(|e| request_error("StartQueryExecution", e))?;
        let id = started.query_execution_id().unwrap_or_default().to_string();
        let began = std::time::Instant::now();
        let mut wait = opts.poll;
        loop {
            self.requests += 1;
            let answer = self
                .client
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| request_error("GetQueryExecution", e))?;
            let status = answer.query_execution().and_then(|q| q.status());
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => return Ok(id),
                Some(state @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                    return Err(AthenaError::QueryFailed {
                        id,
                        state: state.as_str().to_string(),
                        reason: status
                            .and_then(|s| s.state_change_reason())
                            .unwrap_or("no reason given")
                            .to_string(),
                    })
                }
                _ => {}
            }
            if began.elapsed() > opts.timeout {
                self.requests += 1;
                let _ = self
                    .client
                    .stop_query_execution()
                    .query_execution_id(&id)
                    .send()
                    .await;
                return Err(AthenaError::TimedOut {
                    id,
                    minutes: opts.timeout.as_secs() / 60,
                });
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    /// Every page of a query's results: the column names, then each row
    /// (`None` for a null), to `row`.
    async fn results(
        &mut self,
        id: &str,
        row: &mut RowSink<'_>,
    ) -> Result<Vec<String>, AthenaError> {
        let mut token: Option<String> = None;
        let mut names: Vec<String> = Vec::new();
        let mut first_page = true;
        loop {
            self.requests += 1;
            let page = self
                .client
                .get_query_results()
                .query_execution_id(id)
                .max_results(PAGE_ROWS)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| request_error("GetQueryResults", e))?;
            let Some(set) = page.result_set() else { break };
            if first_page {
                names = column_names(set);
            }
            for (i, r) in set.rows().iter().enumerate() {
                let values: Vec<Option<String>> = r
                    .data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_string))
                    .collect();
                // A SELECT's first row repeats the column names.
                let header = first_page
                    && i == 0
                    && values.len() == names.len()
                    && values
                        .iter()
                        .zip(&names)
                        .all(|(v, n)| v.as_deref() == Some(n.as_str()));
                if !header {
                    row(&names, values)?;
                }
            }
            first_page = false;
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(names)
    }
}

fn column_names(set: &ResultSet) -> Vec<String> {
    set.result_set_metadata()
        .map(|m| {
            m.column_info()
                .iter()
                .map(|c| c.name().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Writes result rows as a CSV file the CUR import reads (nulls empty).
pub struct ResultCsv {
    writer: csv::Writer<std::io::BufWriter<std::fs::File>>,
    header_written: bool,
    pub rows: u64,
}

impl ResultCsv {
    pub fn create(path: &std::path::Path) -> Result<ResultCsv, AthenaError> {
        let file = std::fs::File::create(path).map_err(|e| AthenaError::Io {
            what: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(ResultCsv {
            writer: csv::Writer::from_writer(std::io::BufWriter::new(file)),
            header_written: false,
            rows: 0,
        })
    }

    pub fn push(
        &mut self,
        names: &[String],
        values: Vec<Option<String>>,
    ) -> Result<(), AthenaError> {
        let io = |e: csv::Error| AthenaError::Io {
            what: "the query's results".to_string(),
            message: e.to_string(),
        };
        if !self.header_written {
            self.writer.write_record(names).map_err(io)?;
            self.header_written = true;
        }
        self.writer
            .write_record(values.iter().map(|v| v.as_deref().unwrap_or("")))
            .map_err(io)?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<u64, AthenaError> {
        self.writer.flush().map_err(|e| AthenaError::Io {
            what: "the query's results".to_string(),
            message: e.to_string(),
        })?;
        Ok(self.rows)
    }
}

/// Asks Athena for the table's columns and the summed bill, and imports
/// the answer as a CUR (replacing the billing periods it covers).
/// Blocking: runs its own runtime for the SDK.
pub fn pull(
    conn: &mut DbConnection,
    opts: &AthenaOptions,
    limits: Limits,
    progress: &mut dyn FnMut(&str),
) -> Result<AthenaSummary, AthenaError> {
    if opts.from >= opts.to {
        return Err(AthenaError::BadInput(format!(
            "--from {} must be before --to {}",
            opts.from, opts.to
        )));
    }
    if let Some(output) = &opts.output {
        if !output.starts_with("s3://") {
            return Err(AthenaError::BadInput(format!(
                "--output {output}: query results go to an s3:// location"
            )));
        }
    }
    let table = query::table_name(&opts.database, &opts.table).map_err(AthenaError::BadInput)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AthenaError::Io {
            what: "starting the Athena client".to_string(),
            message: e.to_string(),
        })?;
    let dir = tempfile::Builder::new()
        .prefix("finops-athena-")
        .tempdir()
        .map_err(|e| AthenaError::Io {
            what: "a temporary folder".to_string(),
            message: e.to_string(),
        })?;
    let path = dir.path().join("athena-result.csv");
    let (id, rows, requests) = runtime.block_on(async {
        let mut athena = Athena::connect(opts).await;
        progress("asking Athena for the table's columns…");
        let probe = athena
            .run(opts, &format!("SELECT * FROM {table} LIMIT 0"))
            .await?;
        let columns = athena.results(&probe, &mut |_, _| Ok(())).await?;
        let sql =
            query::build(&table, &columns, opts.from, opts.to).map_err(AthenaError::BadInput)?;
        tracing::debug!(%sql, "Athena query");
        progress("Athena is summing the bill…");
        let id = athena.run(opts, &sql).await?;
        progress("reading the answer…");
        let mut out = ResultCsv::create(&path)?;
        athena
            .results(&id, &mut |names, values| out.push(names, values))
            .await?;
        let rows = out.finish()?;
        Ok::<_, AthenaError>((id, rows, athena.requests))
    })?;
    if rows == 0 {
        return Err(AthenaError::BadInput(format!(
            "the Athena query {id} found no lines in billing periods {} to {} of {table}",
            opts.from,
            opts.to.pred_opt().unwrap_or(opts.to)
        )));
    }
    progress("importing…");
    let label = format!(
        "athena {}.{} {}..{} (query {id})",
        opts.database,
        opts.table,
        opts.from,
        opts.to.pred_opt().unwrap_or(opts.to)
    );
    let input = Input::new(&path).named(label).with_limits(limits);
    let import = ingest::import_billing(conn, BillingFormat::Cur, &input, &mut |_| {})?;
    Ok(AthenaSummary {
        query_execution_id: id,
        result_rows: rows,
        requests,
        import,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_become_a_csv_with_nulls_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let mut out = ResultCsv::create(&path).unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        out.push(&names, vec![Some("1,5".into()), None]).unwrap();
        out.push(&names, vec![Some("x".into()), Some("{\"k\":\"v\"}".into())])
            .unwrap();
        assert_eq!(out.finish().unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "a,b\n\"1,5\",\nx,\"{\"\"k\"\":\"\"v\"\"}\"\n"
        );
    }
}
