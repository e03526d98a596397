//! The label values: what was requested, and how a call or a request ended.

use crate::names::paths;
use mattermost_apps::client::ClientError;

label_value! {
    /// A request to the OAuth2 provider.
    ProviderRequest {
        /// The authorization code exchanged for a token (`complete`).
        TokenExchange => "token_exchange",
        /// A refresh token exchanged for a new token.
        Refresh => "refresh",
        /// The userinfo endpoint, as the user.
        Userinfo => "userinfo",
        /// Google's calendar list, as the user.
        Calendar => "calendar",
        /// Token revocation (`disconnect`).
        Revocation => "revocation",
        /// An issuer's discovery document (`configure --issuer`).
        Discovery => "discovery",
        /// `status`'s check of the client credentials.
        StatusProbe => "status_probe",
    }
}

label_value! {
    /// A request to Mattermost's Apps REST API.
    MattermostRequest {
        /// The user's stored token read.
        GetToken => "get_token",
        /// The user's token stored.
        StoreToken => "store_token",
        /// The user's token cleared (stored as `null`).
        ClearToken => "clear_token",
        /// The OAuth2 client stored (`configure`).
        StoreApp => "store_app",
    }
}

label_value! {
    /// Why a user's connection ended.
    Removal {
        /// The user ran `disconnect`.
        Disconnect => "disconnect",
        /// The app cleared a token the provider no longer accepts (or that expired with no
        /// refresh token).
        TokenCleared => "token_cleared",
    }
}

label_value! {
    /// What became of a refresh.
    RefreshResult {
        /// Refreshed at the provider and stored.
        Refreshed => "refreshed",
        /// Joined a refresh of the same user already under way in this process.
        Joined => "joined",
        /// Adopted a token another replica had already refreshed and stored.
        Adopted => "adopted",
        /// The provider refused the refresh token (`invalid_grant`): the user must reconnect.
        InvalidGrant => "invalid_grant",
        /// The provider failed (unreachable, timeout, an unexpected answer).
        Failed => "failed",
        /// The new token could not be stored in Mattermost.
        StoreFailed => "store_failed",
        /// Storing the new token failed once and was tried again.
        RetriedStore => "retried_store",
        /// The cross-replica refresh lock could not be had.
        LockUnavailable => "lock_unavailable",
    }
}

label_value! {
    /// How a request to the provider or to Mattermost ended.
    Outcome {
        /// A success.
        Ok => "ok",
        /// Refused: an OAuth2 error (`invalid_grant`, …) or a 4xx status.
        Refused => "refused",
        /// The user's token was refused (HTTP 401 at an API).
        TokenRejected => "token_rejected",
        /// HTTP 403 at an API (a scope, a rate limit).
        Forbidden => "forbidden",
        /// HTTP 5xx (Mattermost).
        ServerError => "server_error",
        /// No answer within the outbound timeout.
        Timeout => "timeout",
        /// No connection.
        Unreachable => "unreachable",
        /// An answer the app cannot use: not JSON, too large, a 5xx from the provider.
        BadAnswer => "bad_answer",
        /// Not sent: the app's settings or the value cannot make this request.
        NotSent => "not_sent",
    }
}

label_value! {
    /// How a call (any request to the app's listener) ended.
    CallOutcome {
        /// Answered with a `CallResponse` of type `ok` (or a page, the manifest, …).
        Ok => "ok",
        /// Answered with a `CallResponse` of type `error`.
        Error => "error",
        /// Answered with a form.
        Form => "form",
        /// Answered with a `navigate` response.
        Navigate => "navigate",
        /// Refused before the handler: a missing, forged, expired or mismatched JWT (401).
        BadJwt => "bad_jwt",
        /// Refused before the handler: a body over the cap (413).
        TooLarge => "too_large",
        /// Refused before the handler: a body that is not a call request (400).
        Malformed => "malformed",
        /// Another 4xx (no such path or method).
        ClientError => "client_error",
        /// HTTP 5xx: a bug or a missing piece of set-up (there should be none).
        ServerError => "server_error",
    }
}

/// A result that says how its request ended.
pub trait Classify {
    /// The outcome label.
    fn class(&self) -> Outcome;
}

impl<T> Classify for Result<T, ClientError> {
    fn class(&self) -> Outcome {
        match self {
            Ok(_) => Outcome::Ok,
            Err(ClientError::Status { status, .. }) if *status >= 500 => Outcome::ServerError,
            Err(ClientError::Status { .. }) => Outcome::Refused,
            Err(ClientError::Transport(kind)) if kind.contains("timed out") => Outcome::Timeout,
            Err(ClientError::Transport(_)) => Outcome::Unreachable,
            Err(ClientError::TooLarge(_) | ClientError::NoToken(_) | ClientError::BadKey(_)) => {
                Outcome::NotSent
            }
            Err(ClientError::Json(_) | ClientError::AnswerTooLarge) => Outcome::BadAnswer,
        }
    }
}

label_value! {
    /// The route a request took: a known path, or `other` (so a scanner's made-up paths
    /// add no series).
    Route {
        /// `/bindings`.
        Bindings => "/bindings",
        /// `/install`.
        Install => "/install",
        /// `/configure`.
        Configure => "/configure",
        /// `/connect`.
        Connect => "/connect",
        /// `/info`.
        Info => "/info",
        /// `/disconnect`.
        Disconnect => "/disconnect",
        /// `/help`.
        Help => "/help",
        /// `/status`.
        Status => "/status",
        /// `/oauth2/connect`.
        OAuth2Connect => "/oauth2/connect",
        /// `/oauth2/complete`.
        OAuth2Complete => "/oauth2/complete",
        /// `/ping`.
        Ping => "/ping",
        /// `/healthz`.
        Healthz => "/healthz",
        /// `/manifest.json`.
        Manifest => "/manifest.json",
        /// `/static/…`.
        Static => "/static",
        /// Anything else.
        Other => "other",
    }
}

impl Route {
    /// The route of a request path.
    pub fn of(path: &str) -> Self {
        match path {
            paths::BINDINGS => Self::Bindings,
            paths::INSTALL => Self::Install,
            paths::CONFIGURE => Self::Configure,
            paths::CONNECT => Self::Connect,
            paths::INFO => Self::Info,
            paths::DISCONNECT => Self::Disconnect,
            paths::HELP => Self::Help,
            paths::STATUS => Self::Status,
            paths::OAUTH2_CONNECT => Self::OAuth2Connect,
            paths::OAUTH2_COMPLETE => Self::OAuth2Complete,
            paths::PING => Self::Ping,
            "/healthz" => Self::Healthz,
            "/manifest.json" => Self::Manifest,
            _ if path.starts_with("/static/") => Self::Static,
            _ => Self::Other,
        }
    }

    /// Routes polled often (by every client, or by probes): logged at debug level only.
    pub(super) fn is_frequent(self) -> bool {
        matches!(
            self,
            Self::Bindings | Self::Healthz | Self::Manifest | Self::Static
        )
    }
}
