//! One deadline per call. The plugin waits 30 s for an app's answer; a call may spend a
//! token read, a refresh, a store and a provider request, each up to the outbound timeout.
//! Past [`AppState::call_deadline`] the call stops and answers that the provider is slow
//! (a refresh under way goes on in its own task, so its result is still stored).

use std::future::Future;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::{web, HttpResponse};

use crate::state::AppState;
use mattermost_apps::CallResponse;

/// Middleware (`wrap_fn`) running the call under the deadline.
pub fn within_deadline<S>(
    req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
    S::Future: 'static,
{
    let deadline = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.call_deadline);
    let request = req.request().clone();
    let call = service.call(req);
    async move {
        let Some(deadline) = deadline else {
            return call.await;
        };
        match tokio::time::timeout(deadline, call).await {
            Ok(answer) => answer,
            Err(_) => {
                log::warn!(
                    "{} passed its deadline of {deadline:?}",
                    crate::logline::escape(request.path())
                );
                let text = format!(
                    "The provider is slow: this took more than {} s, so it was stopped. Try again in a moment.",
                    deadline.as_secs_f32()
                );
                Ok(ServiceResponse::new(
                    request,
                    HttpResponse::Ok().json(CallResponse::error(text)),
                ))
            }
        }
    }
}
