//! finops: cost and capacity planning for an online game on many player
//! platforms and cloud regions.
//!
//! Data flows one way: sources → ingest → store (`db`) → analyse
//! (`report`) → present (`web`, CSV export, CLI).

pub mod alert;
pub mod anomaly;
pub mod audit;
pub mod auth;
pub mod budget;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod currency;
pub mod db;
pub mod demo;
pub mod dims;
pub mod forecast;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod money;
pub mod pricing;
pub mod pull;
pub mod recommend;
pub mod report;
pub mod rng;
pub mod runs;
pub mod telemetry;
pub mod usage_class;
pub mod web;
