//! The static files the pages load, compiled into the binary and cached by browsers for a day.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::frame::PageError;

const PICO: &str = include_str!("../../assets/vendor/pico/pico.min.css");
const CSS: &str = include_str!("../../assets/dashboard.css");
const JS: &str = include_str!("../../assets/dashboard.js");

pub async fn serve(Path(name): Path<String>) -> Response {
    let (content_type, body) = match name.as_str() {
        "pico.min.css" => ("text/css; charset=utf-8", PICO),
        "dashboard.css" => ("text/css; charset=utf-8", CSS),
        "dashboard.js" => ("text/javascript; charset=utf-8", JS),
        _ => return PageError::not_found().into_response(),
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}
