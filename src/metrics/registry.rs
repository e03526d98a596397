//! The process-wide registry and the functions that record into it.

use std::fmt;
use std::future::Future;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::labels::{
    CallOutcome, Classify, MattermostRequest, Outcome, ProviderRequest, RefreshResult, Removal,
    Route,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    path: Route,
    outcome: CallOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    kind: ProviderRequest,
    outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MattermostLabels {
    kind: MattermostRequest,
    outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RemovalLabels {
    reason: Removal,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefreshLabels {
    result: RefreshResult,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Seconds; the top buckets bracket the 25 s call deadline and the plugin's 30 s.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 25.0,
];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

type Timings<L> = Family<L, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    calls: Timings<CallLabels>,
    in_flight: Gauge,
    provider: Timings<ProviderLabels>,
    mattermost: Timings<MattermostLabels>,
    connections_made: Counter,
    connections_removed: Family<RemovalLabels, Counter>,
    refreshes: Family<RefreshLabels, Counter>,
    lock_wait: Histogram,
    panics: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let metrics = Self {
            registry: Registry::with_prefix("hello_oauth2_rs"),
            calls: Family::new_with_constructor(histogram),
            in_flight: Gauge::default(),
            provider: Family::new_with_constructor(histogram),
            mattermost: Family::new_with_constructor(histogram),
            connections_made: Counter::default(),
            connections_removed: Family::default(),
            refreshes: Family::default(),
            lock_wait: histogram(),
            panics: Counter::default(),
        };
        // Known in advance, so they start at 0: a rate over them is right from the start.
        for result in RefreshResult::ALL {
            drop(
                metrics
                    .refreshes
                    .get_or_create(&RefreshLabels { result: *result }),
            );
        }
        for reason in Removal::ALL {
            drop(
                metrics
                    .connections_removed
                    .get_or_create(&RemovalLabels { reason: *reason }),
            );
        }
        let mut registry = metrics.registry;
        registry.register(
            "call_duration_seconds",
            "Calls from Mattermost (and the other routes) by path and outcome",
            metrics.calls.clone(),
        );
        registry.register(
            "calls_in_flight",
            "Requests being answered now",
            metrics.in_flight.clone(),
        );
        registry.register(
            "provider_request_duration_seconds",
            "Requests to the OAuth2 provider by kind and outcome",
            metrics.provider.clone(),
        );
        registry.register(
            "mattermost_request_duration_seconds",
            "Requests to Mattermost's Apps REST API by kind and outcome",
            metrics.mattermost.clone(),
        );
        registry.register(
            "connections_made",
            "Accounts connected (a token exchanged and stored)",
            metrics.connections_made.clone(),
        );
        registry.register(
            "connections_removed",
            "Connections ended, by reason",
            metrics.connections_removed.clone(),
        );
        registry.register(
            "refreshes",
            "Token refreshes by result",
            metrics.refreshes.clone(),
        );
        registry.register(
            "refresh_lock_wait_seconds",
            "Time spent waiting for the refresh lock",
            metrics.lock_wait.clone(),
        );
        registry.register(
            "panics",
            "Panics in any thread (there should be none)",
            metrics.panics.clone(),
        );
        registry.register(
            "build",
            "The running version",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        Self {
            registry,
            ..metrics
        }
    }
}

/// The metrics in the Prometheus text exposition format (OpenMetrics flavour).
pub fn render() -> Result<String, fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &METRICS.registry)?;
    Ok(text)
}

/// The `Content-Type` of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Records one call.
pub fn call(path: Route, outcome: CallOutcome, took: Duration) {
    METRICS
        .calls
        .get_or_create(&CallLabels { path, outcome })
        .observe(took.as_secs_f64());
}

/// Counts a request in flight until dropped (dropped with the request's future, so a
/// client that goes away is not counted for ever).
pub struct InFlight(());

impl InFlight {
    /// Counts one more request in flight.
    pub fn start() -> Self {
        METRICS.in_flight.inc();
        Self(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        METRICS.in_flight.dec();
    }
}

/// The number of requests being answered now (what a stopping server waits for).
pub fn in_flight() -> i64 {
    METRICS.in_flight.get()
}

/// Runs one request to the provider, and records how long it took and how it ended.
pub async fn provider<R: Classify>(kind: ProviderRequest, request: impl Future<Output = R>) -> R {
    let started = Instant::now();
    let result = request.await;
    METRICS
        .provider
        .get_or_create(&ProviderLabels {
            kind,
            outcome: result.class(),
        })
        .observe(started.elapsed().as_secs_f64());
    result
}

/// Runs one request to Mattermost's REST API, and records how long it took and how it ended.
pub async fn mattermost<R: Classify>(
    kind: MattermostRequest,
    request: impl Future<Output = R>,
) -> R {
    let started = Instant::now();
    let result = request.await;
    METRICS
        .mattermost
        .get_or_create(&MattermostLabels {
            kind,
            outcome: result.class(),
        })
        .observe(started.elapsed().as_secs_f64());
    result
}

/// Counts an account connected.
pub fn connection_made() {
    METRICS.connections_made.inc();
}

/// Counts a connection ended.
pub fn connection_removed(reason: Removal) {
    METRICS
        .connections_removed
        .get_or_create(&RemovalLabels { reason })
        .inc();
}

/// Counts a refresh by its result.
pub fn refresh(result: RefreshResult) {
    METRICS
        .refreshes
        .get_or_create(&RefreshLabels { result })
        .inc();
}

/// Records the time a refresh waited for the refresh lock.
pub fn lock_wait(waited: Duration) {
    METRICS.lock_wait.observe(waited.as_secs_f64());
}

/// Counts every panic (then runs the hook that was set before, which prints it). Call once,
/// from `main`.
pub fn count_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        METRICS.panics.inc();
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_text_names_each_family_with_fixed_labels() {
        refresh(RefreshResult::InvalidGrant);
        connection_removed(Removal::TokenCleared);
        let failed = provider(ProviderRequest::Userinfo, async {
            Err::<(), _>(crate::oauth::ProviderError::Timeout)
        })
        .await;
        assert!(failed.is_err());
        let text = render().expect("renders");
        for line in [
            "hello_oauth2_rs_refreshes_total{result=\"invalid_grant\"}",
            "hello_oauth2_rs_connections_removed_total{reason=\"token_cleared\"}",
            "hello_oauth2_rs_provider_request_duration_seconds_count{kind=\"userinfo\",outcome=\"timeout\"}",
            "hello_oauth2_rs_build_info{version=\"",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }

    #[test]
    fn a_panic_in_any_thread_is_counted() {
        count_panics();
        let before = METRICS.panics.get();
        let joined = std::thread::spawn(|| panic!("a bug")).join();
        assert!(joined.is_err(), "the thread panicked");
        assert!(METRICS.panics.get() > before);
    }
}
