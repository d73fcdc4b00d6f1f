//! What the options decide, read once: [`Target`], one connection's identity (the name sent,
//! the name checked, the session identity, the deadline, where to connect from and to).

pub(crate) mod address;
mod target;

pub use target::Target;
