//! The integration tests: one binary (one link), one module per user story, against the
//! Mattermost emulator and the fake provider. The stories that run external programs
//! (node, Chromium, redis-server, Prometheus) are compiled in with `--features e2e` only;
//! see the README's Testing.

mod support;

mod calendar;
mod commands;
mod configure;
mod configure_deadline;
mod deploy;
mod emulator;
mod examples;
mod faults;
mod flow;
mod install;
mod issuer;
mod logs;
mod notices;
mod outside_text;
mod pooling;
#[cfg(feature = "e2e")]
mod prometheus;
mod providers;
#[cfg(feature = "e2e")]
mod real_provider;
mod refresh;
#[cfg(feature = "e2e")]
mod replica_refresh;
mod replicas;
mod sealed;
mod security;
mod shutdown;
mod status;
#[cfg(feature = "e2e")]
mod webapp_validators;
