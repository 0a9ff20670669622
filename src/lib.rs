//! finops: cost and capacity planning for an online game on many player
//! platforms and cloud regions.
//!
//! Data flows one way: sources → ingest → store (`db`) → analyse
//! (`report`) → present (`web`, CSV export, CLI).

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cli;
pub mod cli_forecast;
pub mod cli_ingest;
pub mod cli_recommend;
pub mod cli_user;
pub mod config;
pub mod db;
pub mod demo;
pub mod dims;
pub mod forecast;
pub mod ingest;
pub mod metrics;
pub mod money;
pub mod pull;
pub mod recommend;
pub mod report;
pub mod telemetry;
#[cfg(test)]
pub mod testing;
pub mod web;
