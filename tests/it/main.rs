//! The integration tests: one binary (one link), one module per user story.

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
mod pooling;
mod providers;
mod real_provider;
mod refresh;
mod replica_refresh;
mod replicas;
mod security;
mod status;
mod webapp_validators;
