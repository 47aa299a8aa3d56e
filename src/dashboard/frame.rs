//! What every page shares: the frame around it (navigation, language switch, the signed-in account), the
//! extractors that decide who is looking, posted forms with their CSRF check, and the one place where
//! errors become pages.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::i18n::{self, Lang, Text};
use super::session::{self, Claims, MerchantSession, OperatorSession, Principal};
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{BodyError, read_body};
use crate::domain::{KeyScope, Mode, Timestamp};

/// The frame around a page's content.
pub struct Chrome {
    pub t: Text,
    pub langs: [Lang; 4],
    /// The current path and query, URL-encoded, for the language switch to come back to.
    pub back: String,
    /// For the log-out form.
    pub csrf: String,
    /// The signed-in account's name, or "Operator"; `None` on the log-in pages.
    pub who: Option<String>,
    pub operator: bool,
    /// Which navigation entry is current.
    pub section: &'static str,
    /// The mode a merchant is looking at (`None` for the operator and the log-in pages).
    pub mode: Option<Mode>,
    /// The merchant may switch between live and test (a live key).
    pub switchable: bool,
}

impl Chrome {
    pub fn anonymous(t: Text, back: String) -> Self {
        Self {
            t,
            langs: i18n::ALL,
            back,
            csrf: String::new(),
            who: None,
            operator: false,
            section: "",
            mode: None,
            switchable: false,
        }
    }

    pub fn test_mode(&self) -> bool {
        self.mode == Some(Mode::Test)
    }
}

/// The cookie that keeps the test-mode switch's position.
pub const MODE_COOKIE: &str = "herald_mode";

/// The mode a live key's holder chose to look at: test while the switch's cookie says so.
fn viewed_mode(headers: &HeaderMap) -> Mode {
    match session::cookie(headers, MODE_COOKIE) {
        Some("test") => Mode::Test,
        _ => Mode::Live,
    }
}

/// A time as pages show it: UTC in the text (the script turns it into the viewer's zone) and in `datetime`.
pub struct Moment {
    pub iso: String,
    pub text: String,
}

pub fn moment(at: Timestamp) -> Moment {
    let iso = at.to_rfc3339_seconds();
    let text = format!("{} UTC", iso.trim_end_matches('Z').replacen('T', " ", 1));
    Moment { iso, text }
}

/// A rendered page.
pub fn html(page: impl Template) -> Response {
    match page.render() {
        Ok(body) => Html(body).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "a dashboard template failed to render");
            PageError::status(StatusCode::INTERNAL_SERVER_ERROR, "error_internal").into_response()
        }
    }
}

/// The language for this request: the switch's cookie, else `Accept-Language`, else English.
pub fn language(headers: &HeaderMap) -> Lang {
    session::cookie(headers, i18n::COOKIE)
        .and_then(Lang::parse)
        .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::negotiate))
        .unwrap_or(Lang::En)
}

fn back_of(parts: &Parts) -> String {
    let path = parts.uri.path_and_query().map_or("/dashboard", |p| p.as_str());
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

fn claims(parts: &Parts, state: &AppState) -> Option<Claims> {
    let value = session::cookie(&parts.headers, session::COOKIE_NAME)?;
    session::read(&state.keyring, value, Timestamp::now())
}

/// Anyone looking at a page, signed in or not.
pub struct Viewer {
    pub t: Text,
    pub back: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self { t: language(&parts.headers).text(), back: back_of(parts) })
    }
}

/// A signed-in merchant looking at a page; anyone else is sent to the log-in page.
pub struct MerchantPage {
    pub me: MerchantSession,
    pub t: Text,
    pub back: String,
}

impl MerchantPage {
    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome {
            who: Some(self.me.account_name.clone()),
            csrf: self.me.csrf.clone(),
            section,
            mode: Some(self.me.mode),
            switchable: self.me.key.mode.is_live(),
            ..Chrome::anonymous(self.t, self.back.clone())
        }
    }
}

impl FromRequestParts<AppState> for MerchantPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let back = back_of(parts);
        let to_login = || Redirect::to(&format!("/dashboard/login?next={back}")).into_response();
        let Some(claims) = claims(parts, state) else { return Err(to_login()) };
        let Principal::Merchant { client_id } = &claims.principal else { return Err(to_login()) };
        let found = state.store.find_credentials(client_id).await.map_err(|e| PageError::from(e).into_response())?;
        let Some(credentials) = found else { return Err(to_login()) };
        if session::credential_tag(&state.keyring, &credentials.secret_hash) != claims.credential_tag {
            return Err(to_login());
        }
        let fail = |e: crate::store::StoreError| PageError::from(e).into_response();
        let key = credentials.key;
        let account = state.store.get_account(&key.owner_id).await.map_err(fail)?;
        let Some(account) = account else { return Err(to_login()) };
        let mode = match key.mode {
            Mode::Test => Mode::Test,
            Mode::Live => viewed_mode(&parts.headers),
        };
        let environment = state.store.environment(&key.owner_id, mode).await.map_err(fail)?;
        let Some(environment) = environment else { return Err(to_login()) };
        let me = MerchantSession {
            account_id: environment,
            account_name: account.name,
            csrf: claims.csrf_token(&state.keyring),
            key,
            mode,
        };
        Ok(Self { me, t: language(&parts.headers).text(), back })
    }
}

/// The signed-in operator looking at a page; anyone else is sent to the operator's log-in page.
pub struct OperatorPage {
    pub me: OperatorSession,
    pub t: Text,
    pub back: String,
}

impl OperatorPage {
    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome {
            who: Some(self.t.get("operator").to_owned()),
            csrf: self.me.csrf.clone(),
            operator: true,
            section,
            ..Chrome::anonymous(self.t, self.back.clone())
        }
    }
}

impl FromRequestParts<AppState> for OperatorPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let back = back_of(parts);
        let to_login = || Redirect::to("/dashboard/operator/login").into_response();
        let Some(claims) = claims(parts, state) else { return Err(to_login()) };
        let tag = session::credential_tag(&state.keyring, &state.admin_token_digest);
        if claims.principal != Principal::Operator || claims.credential_tag != tag {
            return Err(to_login());
        }
        let me = OperatorSession { csrf: claims.csrf_token(&state.keyring) };
        Ok(Self { me, t: language(&parts.headers).text(), back })
    }
}

/// A page's session that forms must prove they came from.
pub trait Csrf {
    fn csrf(&self) -> &str;

    /// Whether the session may change anything (a read-only key may not).
    fn may_write(&self) -> bool {
        true
    }

    /// Notes, for the request log, who posts: a merchant's key and the environment on view.
    fn note_caller(&self) {}
}

impl Csrf for MerchantPage {
    fn csrf(&self) -> &str {
        &self.me.csrf
    }

    fn may_write(&self) -> bool {
        self.me.key.scope == KeyScope::Full
    }

    fn note_caller(&self) {
        crate::api::request_log::acting(&self.me.key, &self.me.account_id, self.me.mode);
    }
}

impl Csrf for OperatorPage {
    fn csrf(&self) -> &str {
        &self.me.csrf
    }
}

/// The fields of a posted form (`application/x-www-form-urlencoded`), in order; a name may repeat.
pub struct FormData(Vec<(String, String)>);

/// The largest form the dashboard accepts.
const MAX_FORM_BYTES: usize = 256 * 1024;

impl FormData {
    pub fn parse(bytes: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The field's value, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// A roll's grace period in seconds, from the `grace_hours` field when it names one of `offered`.
    pub fn grace_seconds(&self, offered: &[u64], default_hours: u64) -> u64 {
        let chosen = self.get("grace_hours").and_then(|h| h.parse::<u64>().ok()).filter(|h| offered.contains(h));
        chosen.unwrap_or(default_hours) * 3600
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
    }
}

/// A form posted by a signed-in user from one of this session's own pages.
pub struct Posted<P> {
    pub page: P,
    pub form: FormData,
}

impl<P> FromRequest<AppState> for Posted<P>
where
    P: FromRequestParts<AppState, Rejection = Response> + Csrf + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let page = P::from_request_parts(&mut parts, state).await?;
        // A merchant's change made on a page is a request of its key like any through the API.
        page.note_caller();
        let request = Request::from_parts(parts, body);
        let bytes = read_form(state, request.into_body()).await?;
        let form = FormData::parse(&bytes);
        if !session::csrf_matches(page.csrf(), form.get("csrf")) {
            return Err(PageError::status(StatusCode::FORBIDDEN, "error_csrf").into_response());
        }
        if !page.may_write() {
            return Err(PageError::status(StatusCode::FORBIDDEN, "error_read_only").into_response());
        }
        Ok(Self { page, form })
    }
}

/// A posted form's bytes, within the size limit and the server's body timeout.
async fn read_form(state: &AppState, body: axum::body::Body) -> Result<Bytes, Response> {
    read_body(state, body, MAX_FORM_BYTES).await.map_err(|error| match error {
        BodyError::TooSlow => PageError::status(StatusCode::REQUEST_TIMEOUT, "error_too_slow").into_response(),
        _ => PageError::status(StatusCode::PAYLOAD_TOO_LARGE, "error_too_large").into_response(),
    })
}

/// A form posted before signing in (the log-in forms); guarded by a double-submit token instead.
pub struct AnonymousForm {
    pub viewer: Viewer,
    pub form: FormData,
}

/// The cookie that pairs a log-in form with the browser that loaded it.
pub const LOGIN_COOKIE: &str = "herald_login";

impl FromRequest<AppState> for AnonymousForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Ok(viewer) = Viewer::from_request_parts(&mut parts, state).await;
        let bytes: Bytes = read_form(state, body).await?;
        let form = FormData::parse(&bytes);
        let expected = session::cookie(&parts.headers, LOGIN_COOKIE).unwrap_or_default();
        if expected.is_empty() || !session::csrf_matches(expected, form.get("csrf")) {
            return Err(PageError::status(StatusCode::FORBIDDEN, "error_csrf").into_response());
        }
        Ok(Self { viewer, form })
    }
}

/// A page's query string parsed into `T`; one that does not parse is a 400 page, not a plain-text answer.
pub struct PageQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(PageQuery)
            .map_err(|_| PageError::status(StatusCode::BAD_REQUEST, "error_bad_query").into_response())
    }
}

/// A failed page: its status and what to say, rendered in the viewer's language by [`render_errors`].
#[derive(Clone, Debug)]
pub struct PageError {
    status: StatusCode,
    /// A catalog key, or (for the API's refusals) the API's own message.
    message: Message,
    debug_id: Option<String>,
}

#[derive(Clone, Debug)]
enum Message {
    Key(&'static str),
    Text(String),
}

impl PageError {
    pub fn status(status: StatusCode, key: &'static str) -> Self {
        Self { status, message: Message::Key(key), debug_id: None }
    }

    pub fn not_found() -> Self {
        Self::status(StatusCode::NOT_FOUND, "error_not_found")
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        let status = error.status();
        let message = match status {
            StatusCode::NOT_FOUND => Message::Key("error_not_found"),
            StatusCode::SERVICE_UNAVAILABLE => Message::Key("error_unavailable"),
            s if s.is_server_error() => Message::Key("error_internal"),
            _ => Message::Text(error.message().to_owned()),
        };
        let debug_id = status.is_server_error().then(|| error.log_cause());
        Self { status, message, debug_id }
    }
}

/// An operation's failure, with the status the API would answer (one mapping for both faces).
impl From<crate::service::ServiceError> for PageError {
    fn from(error: crate::service::ServiceError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(error: crate::store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
    debug_id: Option<String>,
}

/// Turns a [`PageError`] left in a response into a page in the viewer's language.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let t = language(request.headers()).text();
    let back = "%2Fdashboard".to_owned();
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<PageError>().cloned() else { return response };
    let message = match &error.message {
        Message::Key(key) => t.get(key).to_owned(),
        Message::Text(text) => text.clone(),
    };
    let page = ErrorPage {
        chrome: Chrome::anonymous(t, back),
        status: error.status.as_u16(),
        message,
        debug_id: error.debug_id,
    };
    (error.status, html(page)).into_response()
}
