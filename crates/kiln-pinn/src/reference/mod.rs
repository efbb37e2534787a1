//! Reference solutions computed in the crate, for tests, demos and benchmarks.

pub mod burgers;
