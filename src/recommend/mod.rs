//! Recommendations: rightsizing and reserved commitments (Savings Plans,
//! Reserved Instances) sized from the forecast and the marketing
//! calendar rather than from a lookback.

pub mod commitment;
pub mod rightsizing;
