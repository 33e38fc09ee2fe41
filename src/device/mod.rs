//! The device side of a probe: the prompt-driven CLI session, identification, and the
//! actions run on an identified radio.

pub mod actions;
pub mod identify;
pub mod session;
