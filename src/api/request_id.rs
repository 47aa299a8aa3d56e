//! Every request gets an id (`req_…`, time-sortable): the `Request-Id` header of its answer, and the
//! `debug_id` of its error body and of the log line that error writes, so a caller quoting either finds
//! the other. The id is set for the handler's task, where the one error mapping reads it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::domain::RequestId;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The middleware that names each request and its answer.
pub async fn tag(request: Request, next: Next) -> Response {
    let id = RequestId::generate();
    let mut response = CURRENT.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert("request-id", value);
    }
    response
}

/// The id of the request being handled, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}
