//! The records tests read: every call to the app, every Apps REST request, every
//! `refresh_bindings` event, every item the plugin's cleaning dropped, every static fetch.

use serde_json::Value;

use super::clean::Dropped;
use super::Mattermost;

/// One call the emulator made to the app.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// The URL posted to.
    pub url: String,
    /// The call path.
    pub path: String,
    /// The CallRequest sent.
    pub request: Value,
    /// The JWT header, decoded (None without `use_jwt`).
    pub jwt_header: Option<Value>,
    /// The JWT claims, decoded.
    pub claims: Option<Value>,
    /// The HTTP status (None for a transport error).
    pub status: Option<u16>,
    /// The response body as text.
    pub body: String,
    /// The response body as JSON, when it was JSON.
    pub response: Option<Value>,
    /// The error as the plugin saw it, if any.
    pub error: Option<String>,
}

/// One request to the Apps REST API.
#[derive(Debug, Clone)]
pub struct RestRecord {
    /// HTTP method.
    pub method: String,
    /// Path under `/plugins/com.mattermost.apps/api/v1`, e.g. `/oauth2/user`.
    pub path: String,
    /// The token's user, when the token was known.
    pub user_id: Option<String>,
    /// The answer's status.
    pub status: u16,
}

/// Who a `refresh_bindings` websocket event went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTarget {
    /// Every user.
    AllUsers,
    /// One user (ID).
    User(String),
}

/// A `custom_com.mattermost.apps_refresh_bindings` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshEvent {
    /// Who got it.
    pub target: EventTarget,
    /// Why (e.g. `oauth2/app changed`).
    pub reason: String,
}

/// A `GET {root_url}/static/...` the plugin made.
#[derive(Debug, Clone)]
pub struct StaticFetch {
    /// The URL.
    pub url: String,
    /// The status.
    pub status: Option<u16>,
    /// Whether any authorization header was sent (never, like the plugin).
    pub sent_auth: bool,
}

/// Everything the emulator recorded.
#[derive(Debug, Default, Clone)]
pub struct Records {
    /// Calls to the app.
    pub calls: Vec<CallRecord>,
    /// REST API requests.
    pub rest: Vec<RestRecord>,
    /// refresh_bindings events.
    pub events: Vec<RefreshEvent>,
    /// Items dropped by the plugin's cleaning.
    pub dropped: Vec<Dropped>,
    /// Static asset fetches.
    pub statics: Vec<StaticFetch>,
    /// Posts created through `/api/v4/posts`.
    pub posts: Vec<super::v4::PostRecord>,
    /// `/api/v4` requests refused while posting was down.
    pub v4_refused: usize,
}

impl Mattermost {
    /// Every call made to the app, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.inner.lock().records.calls.clone()
    }

    /// The calls made to `path`.
    pub fn calls_to(&self, path: &str) -> Vec<CallRecord> {
        self.calls()
            .into_iter()
            .filter(|c| c.path == path)
            .collect()
    }

    /// Every Apps REST request, in order.
    pub fn rest_calls(&self) -> Vec<RestRecord> {
        self.inner.lock().records.rest.clone()
    }

    /// The REST requests with `method` to `path`.
    pub fn rest_calls_to(&self, method: &str, path: &str) -> Vec<RestRecord> {
        self.rest_calls()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    /// Every refresh_bindings event.
    pub fn events(&self) -> Vec<RefreshEvent> {
        self.inner.lock().records.events.clone()
    }

    /// Everything the plugin's cleaning (and the Go re-serialisation) dropped.
    pub fn dropped(&self) -> Vec<Dropped> {
        self.inner.lock().records.dropped.clone()
    }

    /// The static asset fetches.
    pub fn static_fetches(&self) -> Vec<StaticFetch> {
        self.inner.lock().records.statics.clone()
    }

    /// Forgets the records (not the state).
    pub fn clear_records(&self) {
        self.inner.lock().records = Default::default();
    }
}
