//! Signing in and out: merchants with their client id and secret, the operator with the admin token; and
//! the language switch.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::frame::{AnonymousForm, Chrome, FormData, LOGIN_COOKIE, PageError, PageQuery, Viewer, html};
use super::i18n::{self, Lang};
use super::session::{self, Principal};
use crate::api::error::ApiError;
use crate::api::extract::{OPERATOR, Peer, SecretMatch, attempt_of, secret_matches, throttled};
use crate::api::{AppState, state::digest};
use crate::domain::Timestamp;

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage {
    chrome: Chrome,
    operator: bool,
    csrf: String,
    next: String,
    client_id: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Where to go after signing in: only a dashboard path of this site, never elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with("/dashboard/") && !path.starts_with("/dashboard/login") => path.to_owned(),
        _ => "/dashboard/webhooks".to_owned(),
    }
}

fn login_page(viewer: Viewer, operator: bool, next: String, client_id: String, error: Option<String>) -> Response {
    let token = crate::keyring::random_token(18);
    let cookie = format!("{LOGIN_COOKIE}={token}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=3600");
    let page =
        LoginPage { chrome: Chrome::anonymous(viewer.t, viewer.back), operator, csrf: token, next, client_id, error };
    ([(SET_COOKIE, cookie)], html(page)).into_response()
}

pub async fn merchant_login_page(viewer: Viewer, PageQuery(query): PageQuery<NextQuery>) -> Response {
    login_page(viewer, false, safe_next(query.next.as_deref()), String::new(), None)
}

pub async fn operator_login_page(viewer: Viewer) -> Response {
    login_page(viewer, true, "/dashboard/operator/accounts".into(), String::new(), None)
}

fn signed_in(state: &AppState, principal: Principal, tag: &str, next: &str) -> Response {
    let value = session::issue(&state.keyring, &principal, tag, Timestamp::now());
    let secure = state.public_url.starts_with("https://");
    ([(SET_COOKIE, session::set_cookie(Some(&value), secure))], Redirect::to(next)).into_response()
}

pub async fn merchant_login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    posted: AnonymousForm,
) -> Result<Response, PageError> {
    let AnonymousForm { viewer, form } = posted;
    let next = safe_next(form.get("next"));
    let client_id = form.get("client_id").unwrap_or_default().to_owned();
    let secret = form.get("client_secret").unwrap_or_default();
    let verify = async {
        let presented = state.keyring.hash_credential(secret);
        let found = if client_id.is_empty() { None } else { state.store.find_credentials(&client_id).await? };
        // Only the current secret signs in: a session lives longer than a rolled secret's grace period.
        Ok(found.filter(|c| secret_matches(c, &presented, Timestamp::now()) == Some(SecretMatch::Current)))
    };
    let attempt = attempt_of(Some(&client_id).filter(|id| !id.is_empty()).map(|id| id.as_str()), peer);
    match throttled(&state, &attempt, verify).await {
        Ok(Some(credentials)) => {
            let tag = session::credential_tag(&state.keyring, &credentials.secret_hash);
            Ok(signed_in(&state, Principal::Merchant { client_id }, &tag, &next))
        }
        Ok(None) => {
            let error = viewer.t.get("login_failed").to_owned();
            Ok(login_page(viewer, false, next, client_id, Some(error)))
        }
        Err(error) if error.retry_after().is_some() => Ok(throttled_page(viewer, false, next, client_id, &error)),
        Err(error) => Err(error.into()),
    }
}

pub async fn operator_login(State(state): State<AppState>, Peer(peer): Peer, posted: AnonymousForm) -> Response {
    let AnonymousForm { viewer, form } = posted;
    let token = form.get("admin_token").unwrap_or_default();
    let verify = async { Ok(bool::from(digest(token).ct_eq(&state.admin_token_digest)).then_some(())) };
    let next = "/dashboard/operator/accounts".to_owned();
    match throttled(&state, &attempt_of(Some(OPERATOR), peer), verify).await {
        Ok(Some(())) => {
            let tag = session::credential_tag(&state.keyring, &state.admin_token_digest);
            signed_in(&state, Principal::Operator, &tag, &next)
        }
        Ok(None) => {
            let error = viewer.t.get("login_failed_operator").to_owned();
            login_page(viewer, true, next, String::new(), Some(error))
        }
        Err(error) if error.retry_after().is_some() => throttled_page(viewer, true, next, String::new(), &error),
        Err(error) => PageError::from(error).into_response(),
    }
}

/// The sign-in form again, answered 429 with `Retry-After`, saying why and for how long.
fn throttled_page(viewer: Viewer, operator: bool, next: String, client_id: String, error: &ApiError) -> Response {
    let seconds = error.retry_after().unwrap_or(1);
    let message = viewer.t.get("login_throttled").replace("{seconds}", &seconds.to_string());
    let mut page = login_page(viewer, operator, next, client_id, Some(message));
    *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    page.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    page
}

/// Ends the session in this browser. The form carries the CSRF token of whichever session it came from;
/// a cross-site post cannot sign anyone out.
pub async fn logout(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let operator = session::cookie(&parts.headers, session::COOKIE_NAME)
        .and_then(|value| session::read(&state.keyring, value, Timestamp::now()))
        .map(|claims| (claims.principal == Principal::Operator, claims.csrf_token(&state.keyring)));
    let bytes = crate::api::extract::read_body(&state, body, 4096).await.unwrap_or_default();
    let form = FormData::parse(&bytes);
    let Some((operator, csrf)) = operator else { return Redirect::to("/dashboard/login").into_response() };
    if !session::csrf_matches(&csrf, form.get("csrf")) {
        return PageError::status(axum::http::StatusCode::FORBIDDEN, "error_csrf").into_response();
    }
    let to = if operator { "/dashboard/operator/login" } else { "/dashboard/login" };
    let secure = state.public_url.starts_with("https://");
    ([(SET_COOKIE, session::set_cookie(None, secure))], Redirect::to(to)).into_response()
}

#[derive(Deserialize)]
pub struct BackQuery {
    back: Option<String>,
}

/// Turns test mode on or off for this browser (a live key's holder may look at either mode; a test key
/// sees test data whatever the switch says) and goes back to the page the switch was used on.
pub async fn switch_mode(Path(mode): Path<String>, PageQuery(query): PageQuery<BackQuery>) -> Response {
    let mode = crate::domain::Mode::parse(&mode).unwrap_or(crate::domain::Mode::Live);
    let back = query.back.filter(|b| b.starts_with("/dashboard")).unwrap_or_else(|| "/dashboard".into());
    let cookie =
        format!("{}={}; Path=/dashboard; SameSite=Lax; Max-Age=31536000", super::frame::MODE_COOKIE, mode.as_str());
    ([(SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

/// Remembers the chosen language for a year and goes back to the page the switch was used on.
pub async fn switch_language(Path(code): Path<String>, PageQuery(query): PageQuery<BackQuery>) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::En);
    let back = query.back.filter(|b| b.starts_with("/dashboard")).unwrap_or_else(|| "/dashboard".into());
    let cookie = format!("{}={}; Path=/dashboard; SameSite=Lax; Max-Age=31536000", i18n::COOKIE, lang.code());
    ([(SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}
