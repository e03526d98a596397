//! The integration tests: one binary (one link), one module per user story.

mod support;

mod commands;
mod configure;
mod flow;
mod install;
mod refresh;
mod replicas;
