//! One integration-test binary: the real server on a random port, against
//! SQLite and PostgreSQL. See `helpers::TestApp`.

mod alerts;
mod anomalies;
mod athena;
mod attacks;
mod auth;
mod bad_input;
mod browser;
mod budgets;
mod calendar;
mod cbor;
mod cli;
mod cloudwatch_pull;
mod cost_explorer;
mod costs_api;
mod demo_data;
mod export;
mod faults;
mod forecast;
mod health;
mod helpers;
mod ingest;
mod observability;
mod pages;
mod recommend;
mod s3_export;
mod snapshots;
mod sources_pages;
mod team;
mod unallocated;
