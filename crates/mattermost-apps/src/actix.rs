//! The one way in for calls: an actix-web extractor that checks the JWT (before reading the
//! body), caps and parses the body, and checks the token's user against the context's. A
//! handler that takes a [`Verified`] cannot forget any of it.
//!
//! Transport problems are HTTP errors: 401 for the token (plain text, a short reason), 413
//! for a body over the cap, 400 with a `CallResponse` of type `error` for malformed JSON.
//!
//! Handlers answer with a [`CallResponse`] (a `Responder`: HTTP 200, JSON) or a
//! `Result<CallResponse, CallError>`, whose error is answered the same way:
//!
//! ```
//! use mattermost_apps::{CallError, CallResponse, Verified};
//!
//! async fn hello(call: Verified) -> Result<CallResponse, CallError> {
//!     let name = call.value_str("name").ok_or_else(|| CallResponse::error("Who?"))?;
//!     Ok(CallResponse::ok(format!("Hello, {name}!")))
//! }
//! # let _ = actix_web::web::post().to(hello);
//! ```

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::body::BoxBody;
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{
    web, FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError,
};
use futures::StreamExt;

use crate::call_request::CallRequest;
use crate::call_response::{CallError, CallResponse};
use crate::context::{CallContext, Context};
use crate::jwt::{self, Claims, JwtError, JwtVerifier};

/// The largest call body accepted (1 MiB).
pub const MAX_CALL_BODY: usize = 1 << 20;

/// A call whose JWT was verified; derefs to the [`CallRequest`].
#[derive(Debug)]
pub struct Verified<C = Context> {
    /// The parsed request.
    pub request: CallRequest<C>,
    /// The token's claims.
    pub claims: Claims,
}

impl<C> Deref for Verified<C> {
    type Target = CallRequest<C>;
    fn deref(&self) -> &Self::Target {
        &self.request
    }
}

/// Left in the request's extensions once the JWT is verified (before the body is read), for
/// middleware that logs or counts calls by who made them.
#[derive(Debug, Clone)]
pub struct VerifiedCaller {
    /// The token's `acting_user_id`.
    pub acting_user_id: Option<String>,
}

/// Why a call was refused before reaching its handler.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// Bad, missing or mismatched JWT.
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] JwtError),
    /// The body is over the cap.
    #[error("the call body is larger than {MAX_CALL_BODY} bytes")]
    TooLarge,
    /// The body could not be read.
    #[error("the call body could not be read")]
    Unreadable,
    /// The body is not a CallRequest. The text has the position, never the content.
    #[error("invalid call request: {0}")]
    BadJson(String),
    /// No [`JwtVerifier`] was registered as app data.
    #[error("the app has no JWT verifier configured")]
    NoVerifier,
}

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Rejection::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Rejection::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::Unreadable | Rejection::BadJson(_) => StatusCode::BAD_REQUEST,
            Rejection::NoVerifier => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Rejection::BadJson(_) => response.json(CallResponse::error(self.to_string())),
            _ => response
                .content_type("text/plain; charset=utf-8")
                .body(self.to_string()),
        }
    }
}

/// Every call is answered with HTTP 200 and the response as JSON, errors included.
impl Responder for CallResponse {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        HttpResponse::Ok().json(self)
    }
}

/// HTTP 200 with the error's `CallResponse`: the plugin shows its text to the user.
impl ResponseError for CallError {
    fn status_code(&self) -> StatusCode {
        StatusCode::OK
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::Ok().json(self.response())
    }
}

impl<C> FromRequest for Verified<C>
where
    C: CallContext,
{
    type Error = Rejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Rejection>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let claims = match req.app_data::<web::Data<JwtVerifier>>() {
            Some(verifier) => {
                let header = req.headers().get(jwt::HEADER).and_then(|v| v.to_str().ok());
                verifier.verify_header(header)
            }
            None => return Box::pin(async { Err(Rejection::NoVerifier) }),
        };
        let claims = match claims {
            Ok(claims) => claims,
            // Refuse before reading a byte of the body.
            Err(err) => return Box::pin(async move { Err(Rejection::Unauthorized(err)) }),
        };
        req.extensions_mut().insert(VerifiedCaller {
            acting_user_id: claims.acting_user_id.clone(),
        });
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(payload, declared).await?;
            let request: CallRequest<C> = serde_json::from_slice(&bytes).map_err(|err| {
                Rejection::BadJson(format!(
                    "{:?} error at line {}, column {}",
                    err.classify(),
                    err.line(),
                    err.column()
                ))
            })?;
            jwt::check_acting_user(&claims, request.context.acting_user_id())?;
            Ok(Verified { request, claims })
        })
    }
}

/// Reads the whole body, refusing one over [`MAX_CALL_BODY`] (by its `Content-Length`
/// before reading anything, else as it streams in). A body that arrives in one chunk, the
/// usual case since one read of the socket holds the whole request, is kept as it is;
/// only a body in several chunks is copied into one buffer.
async fn read_body(mut payload: Payload, declared: Option<usize>) -> Result<Bytes, Rejection> {
    if declared.is_some_and(|len| len > MAX_CALL_BODY) {
        return Err(Rejection::TooLarge);
    }
    let Some(first) = next_chunk(&mut payload).await? else {
        return Ok(Bytes::new());
    };
    let Some(mut chunk) = next_chunk(&mut payload).await? else {
        return if first.len() > MAX_CALL_BODY {
            Err(Rejection::TooLarge)
        } else {
            Ok(first)
        };
    };
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).max(first.len() + chunk.len()));
    body.extend_from_slice(&first);
    loop {
        if body.len() + chunk.len() > MAX_CALL_BODY {
            return Err(Rejection::TooLarge);
        }
        body.extend_from_slice(&chunk);
        match next_chunk(&mut payload).await? {
            Some(next) => chunk = next,
            None => return Ok(body.freeze()),
        }
    }
}

async fn next_chunk(payload: &mut Payload) -> Result<Option<Bytes>, Rejection> {
    match payload.next().await {
        Some(Ok(chunk)) => Ok(Some(chunk)),
        Some(Err(_)) => Err(Rejection::Unreadable),
        None => Ok(None),
    }
}
