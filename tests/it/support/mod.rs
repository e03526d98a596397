//! Test support: a Mattermost emulator (the Apps plugin as the app sees it), a fake OAuth2
//! provider, the real app on a random port, and a [`world::World`] that wires them up.

#![allow(dead_code)]

pub mod app;
pub mod mattermost;
pub mod provider;
pub mod util;
pub mod world;
