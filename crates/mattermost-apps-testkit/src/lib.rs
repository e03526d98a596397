#![warn(missing_docs)]
// The crate's docs are its README, whose examples are doc-tests.
#![doc = include_str!("../README.md")]

pub mod leaks;
pub mod mattermost;
pub mod provider;
pub mod proxy;
pub mod response;
pub mod signed;
pub mod util;

pub use signed::SignedCall;
