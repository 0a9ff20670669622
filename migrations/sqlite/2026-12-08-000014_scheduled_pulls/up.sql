-- Scheduled work shared by every process on the database: one row per
-- job (a Cost Explorer pull, an S3 export, the CloudWatch pull), claimed
-- by compare-and-swap on `last_started_at` so that of several servers
-- woken at the same hour one runs the job; and, per S3 export and billing
-- period, the manifest last imported, so that a pull re-imports only the
-- periods whose manifest changed.
CREATE TABLE scheduled_jobs (
    name TEXT PRIMARY KEY,
    last_started_at TIMESTAMP NOT NULL,
    last_finished_at TIMESTAMP,
    last_status TEXT NOT NULL DEFAULT '',
    last_message TEXT NOT NULL DEFAULT '',
    runs BIGINT NOT NULL DEFAULT 0,
    started_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE export_deliveries (
    export_uri TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    manifest_key TEXT NOT NULL,
    manifest_etag TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    files BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    ingest_run_id BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    PRIMARY KEY (export_uri, billing_period)
);
