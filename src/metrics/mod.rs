//! Prometheus metrics: what the app counts and times, in one process-wide registry, read
//! at `/metrics` on its own listener (`--metrics-listen`, off by default; see
//! [`crate::startup`]). Recording is always on: it is cheap, and the plumbing that sends
//! provider requests has no handle to the app's state.
//!
//! Every label value is one of a few words fixed here (the enums below), so no user ID,
//! token, e-mail or URL can ever become a label. Counts are the `_count` of each duration
//! histogram. Names and meanings are listed in README.md (Operating) and used by the
//! rules in `deploy/prometheus/`.

/// Declares a label value: an enum whose variants each stand for one fixed word.
macro_rules! label_value {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $word:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The label value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)*
                }
            }
        }

        impl prometheus_client::encoding::EncodeLabelValue for $name {
            fn encode(
                &self,
                encoder: &mut prometheus_client::encoding::LabelValueEncoder,
            ) -> std::fmt::Result {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}

mod calls;
mod labels;
mod registry;

pub use calls::observe_calls;
pub use labels::{
    CallOutcome, Classify, MattermostRequest, Outcome, ProviderRequest, RefreshResult, Removal,
    Route,
};
pub use registry::*;
