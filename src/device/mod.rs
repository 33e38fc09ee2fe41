//! The device side of a probe: the prompt-driven CLI session, identification, the actions
//! run on an identified radio, and the new sessions an action may ask for.

pub mod actions;
pub mod identify;
pub mod redial;
pub mod session;
