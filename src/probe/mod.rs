//! sikprobe's machinery: input targets, credentials, the per-host probe, the streaming engine,
//! resume from earlier output, and the run summary.

pub mod credentials;
pub mod engine;
pub mod host;
pub mod progress;
pub mod resume;
pub mod summary;
pub mod target;
