//! Every request to the app's listener, timed, classified and logged by one middleware, so
//! the handlers stay as they are: the path (one of the app's routes, else `other`), the
//! outcome (the `CallResponse` type, or why it was refused before its handler), the
//! duration, and the acting user the JWT named.

use std::future::Future;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::HttpMessage;
use mattermost_apps::actix::VerifiedCaller;

use super::labels::{CallOutcome, Route};
use super::registry::{self, InFlight};

/// Middleware (`wrap_fn`) recording every request: the metric, and one log line.
pub fn observe_calls<S>(
    req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
    S::Future: 'static,
{
    let started = Instant::now();
    let in_flight = InFlight::start();
    let route = Route::of(req.path());
    let call = service.call(req);
    async move {
        let response = call.await;
        drop(in_flight);
        let response = response?;
        let mut outcome = by_status(response.status());
        let response = response.map_body(|_, body| match body.try_into_bytes() {
            Ok(bytes) => {
                if outcome == CallOutcome::Ok {
                    outcome = by_type(&bytes);
                }
                BoxBody::new(bytes)
            }
            Err(body) => body,
        });
        let took = started.elapsed();
        registry::call(route, outcome, took);
        // Refusals and 5xx are worth a look; a scanner's 404s are not.
        let level = match outcome {
            CallOutcome::BadJwt
            | CallOutcome::TooLarge
            | CallOutcome::Malformed
            | CallOutcome::ServerError => log::Level::Warn,
            _ if route.is_frequent() => log::Level::Debug,
            _ => log::Level::Info,
        };
        if log::log_enabled!(target: "hello_oauth2_rs::call", level) {
            let extensions = response.request().extensions();
            let user_id = extensions
                .get::<VerifiedCaller>()
                .and_then(|caller| caller.acting_user_id.as_deref())
                .unwrap_or("");
            log::log!(
                target: "hello_oauth2_rs::call",
                level,
                path = route.as_str(),
                user_id = user_id,
                outcome = outcome.as_str(),
                duration_ms = took.as_millis() as u64;
                "call"
            );
        }
        Ok(response)
    }
}

/// The outcome an HTTP status says by itself; `Ok` for a success, whose body says more.
fn by_status(status: StatusCode) -> CallOutcome {
    match status.as_u16() {
        200..=399 => CallOutcome::Ok,
        400 => CallOutcome::Malformed,
        401 => CallOutcome::BadJwt,
        413 => CallOutcome::TooLarge,
        500.. => CallOutcome::ServerError,
        _ => CallOutcome::ClientError,
    }
}

/// The type of a `CallResponse` body. Its `type` member is serialised first (a test in this
/// module checks it), so the first bytes tell, without parsing a body that may be large.
fn by_type(body: &[u8]) -> CallOutcome {
    let Some(rest) = body.strip_prefix(br#"{"type":""#) else {
        return CallOutcome::Ok;
    };
    if rest.starts_with(br#"error""#) {
        CallOutcome::Error
    } else if rest.starts_with(br#"form""#) {
        CallOutcome::Form
    } else if rest.starts_with(br#"navigate""#) {
        CallOutcome::Navigate
    } else {
        CallOutcome::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mattermost_apps::{CallResponse, Form};

    #[test]
    fn the_response_type_is_read_from_the_first_bytes() {
        let body = |response: &CallResponse| serde_json::to_vec(response).expect("serialises");
        assert_eq!(by_type(&body(&CallResponse::ok("x"))), CallOutcome::Ok);
        assert_eq!(
            by_type(&body(&CallResponse::error("x"))),
            CallOutcome::Error
        );
        assert_eq!(
            by_type(&body(&CallResponse::form(Form::default()))),
            CallOutcome::Form
        );
        assert_eq!(by_type(b"<html>"), CallOutcome::Ok);
        assert_eq!(by_status(StatusCode::UNAUTHORIZED), CallOutcome::BadJwt);
        assert_eq!(by_status(StatusCode::NOT_FOUND), CallOutcome::ClientError);
    }

    #[test]
    fn only_the_app_routes_are_labels() {
        assert_eq!(Route::of("/info"), Route::Info);
        assert_eq!(Route::of("/static/icon.png"), Route::Static);
        assert_eq!(Route::of("/users/4xk9/tokens?x=1"), Route::Other);
    }
}
