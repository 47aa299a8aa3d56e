//! Request extractors that answer bad input in Herald's error shape: JSON bodies, and the two kinds of
//! caller (the operator's bearer token, a merchant's Basic credentials).

use axum::body::Bytes;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::error::{ApiError, ErrorDetail};
use super::request_log;
use super::state::{AppState, digest};
use crate::auth_throttle::Attempt;
use crate::domain::{AccountId, ApiKey, KeyScope, Timestamp};
use crate::store::KeyCredentials;

/// A request body type, with the size limit that applies to it.
pub trait RequestBody: DeserializeOwned {
    /// A JSON object, as almost every body is. (serde would also read a struct from an array of its field
    /// values, `[null, null]`, which no client means to send.)
    const OBJECT: bool = true;

    fn limit(state: &AppState) -> usize {
        state.limits.max_body_bytes
    }
}

/// Why a body could not be read.
pub enum BodyError {
    TooLarge,
    /// It did not arrive in full within the body timeout.
    TooSlow,
    Broken,
}

/// Reads a whole request body, at most `limit` bytes, within the server's body timeout (for the whole
/// body, not between its pieces: a client cannot hold a request open by trickling it).
pub async fn read_body(state: &AppState, body: axum::body::Body, limit: usize) -> Result<Bytes, BodyError> {
    let read = tokio::time::timeout(state.limits.body_timeout, axum::body::to_bytes(body, limit));
    match read.await {
        Err(_) => Err(BodyError::TooSlow),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => {
            let mut causes = std::iter::successors(std::error::Error::source(&error), |cause| cause.source());
            match causes.any(|cause| cause.is::<http_body_util::LengthLimitError>()) {
                true => Err(BodyError::TooLarge),
                false => Err(BodyError::Broken),
            }
        }
    }
}

/// A parsed JSON body together with its raw bytes (idempotency keys hash the bytes).
pub struct JsonBody<T>(pub T, pub Bytes);

/// A JSON body that may be left out entirely (no body, with or without a content type): then
/// `T::default()`.
pub struct OptionalJsonBody<T>(pub T);

impl<T: RequestBody + Default> FromRequest<AppState> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let headers = request.headers();
        let declared_empty = headers.get(CONTENT_LENGTH).is_some_and(|v| v == "0");
        if declared_empty && is_json(headers) {
            return Ok(Self(T::default()));
        }
        if headers.get(CONTENT_TYPE).is_none() && (declared_empty || headers.get(CONTENT_LENGTH).is_none()) {
            let bytes = read_body(state, request.into_body(), 1).await.unwrap_or_default();
            if bytes.is_empty() {
                return Ok(Self(T::default()));
            }
            return Err(ApiError::unsupported_media_type());
        }
        JsonBody::<T>::from_request(request, state).await.map(|JsonBody(value, _)| Self(value))
    }
}

/// `application/json`, or any `+json` type such as `application/json-patch+json`.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let mime = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next());
    mime.map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")))
}

impl<T: RequestBody> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = T::limit(state);
        let headers = request.headers();
        if !is_json(headers) {
            return Err(ApiError::unsupported_media_type());
        }
        let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(ApiError::too_large(limit));
        }
        let bytes = read_body(state, request.into_body(), limit).await.map_err(|error| match error {
            BodyError::TooLarge => ApiError::too_large(limit),
            BodyError::TooSlow => ApiError::body_timeout(),
            BodyError::Broken => ApiError::invalid_request("the body could not be read"),
        })?;
        if T::OBJECT && bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            let detail = ErrorDetail::body("", "INVALID_PARAMETER", "the body must be a JSON object");
            return Err(ApiError::invalid_request("the body is not a JSON object").with_detail(detail));
        }
        let value = parse_json(&bytes)?;
        Ok(Self(value, bytes))
    }
}

/// Parses JSON, naming the failing field by its JSON pointer.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let pointer = json_pointer(e.path());
        let inner = e.into_inner();
        let (issue, message) = match inner.classify() {
            serde_json::error::Category::Data => ("INVALID_PARAMETER", "a field is missing or has the wrong type"),
            _ => ("MALFORMED_REQUEST_JSON", "the body is not valid JSON"),
        };
        ApiError::invalid_request(message).with_detail(ErrorDetail::body(pointer, issue, inner.to_string()))
    })?;
    deserializer.end().map_err(|e| {
        ApiError::invalid_request("the body is not valid JSON").with_detail(ErrorDetail::body(
            "",
            "MALFORMED_REQUEST_JSON",
            e.to_string(),
        ))
    })?;
    Ok(value)
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", key.replace('~', "~0").replace('/', "~1"))),
            Segment::Enum { variant } => Some(format!("/{variant}")),
            Segment::Unknown => None,
        })
        .collect()
}

/// The operator, authenticated by `Authorization: Bearer <admin token>`.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let Some(token) = strip_scheme(header, "Bearer") else {
            return Err(ApiError::unauthenticated("this call needs the operator's bearer token"));
        };
        let attempt = attempt_of(Some(OPERATOR), peer(parts));
        let valid = async { Ok(bool::from(digest(token).ct_eq(&state.admin_token_digest)).then_some(Self)) };
        throttled(state, &attempt, valid)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("the bearer token is not valid"))
    }
}

/// The credential name the operator's failures are counted under.
pub const OPERATOR: &str = "operator";

/// The address a request came from (the server puts it on every request).
pub fn peer(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())
}

/// The address a whole request came from.
pub fn peer_of(request: &Request) -> Option<IpAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())
}

/// New work may be taken on: the process is within its memory budget. An extractor, so that it is asked
/// before the body is read into memory.
pub struct WithinMemoryBudget;

impl FromRequestParts<AppState> for WithinMemoryBudget {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.memory.admit().map_err(ApiError::over_memory)?;
        Ok(Self)
    }
}

/// The address a request came from, as an extractor (for handlers that authenticate by themselves).
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(peer(parts)))
    }
}

/// Who an authentication is counted as: the credential it names (when it names one) and its address.
pub fn attempt_of(credential: Option<&str>, peer: Option<IpAddr>) -> Attempt {
    Attempt { credential: credential.map(str::to_owned), address: peer }
}

/// Runs one authentication under the node's throttle. A throttled caller is answered 429 before its
/// credential is looked at; a failure (`verify` gives `None`) is counted, logged when it emptied a bucket,
/// and left to the caller to refuse; a success fills its credential's bucket again.
pub async fn throttled<T>(
    state: &AppState,
    attempt: &Attempt,
    verify: impl Future<Output = Result<Option<T>, ApiError>>,
) -> Result<Option<T>, ApiError> {
    if let Err(throttled) = state.auth_throttle.check(attempt, Instant::now()) {
        state.metrics.auth_throttled(throttled.by);
        return Err(ApiError::rate_limited(throttled.retry_after));
    }
    let verified = verify.await?;
    match &verified {
        Some(_) => state.auth_throttle.succeeded(attempt),
        None => {
            state.metrics.auth_failed();
            for by in state.auth_throttle.failed(attempt, Instant::now()) {
                let credential: String = attempt.credential.as_deref().unwrap_or("").chars().take(64).collect();
                let address = attempt.address.map(|a| a.to_string()).unwrap_or_default();
                tracing::warn!(by, credential, address, "failed authentications are throttled");
            }
        }
    }
    Ok(verified)
}

/// A merchant, authenticated by `Authorization: Basic base64(client_id:client_secret)` or by
/// `Authorization: Bearer <access token>` from `POST /v1/oauth2/token`: one of its API keys, which opens
/// one environment (`account_id`, the account itself or its test environment). A read-only key is
/// refused here on every write, so no handler can forget it.
pub struct Merchant {
    /// The environment the key opens: every merchant object is scoped by it.
    pub account_id: AccountId,
    pub key: ApiKey,
}

impl FromRequestParts<AppState> for Merchant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let key = if let Some(token) = strip_scheme(header, "Bearer") {
            let hash = state.keyring.hash_credential(token);
            let found = async { Ok(state.store.find_token(&hash, Timestamp::now()).await?) };
            throttled(state, &attempt_of(None, peer(parts)), found)
                .await?
                .ok_or_else(|| ApiError::unauthenticated("the access token is not valid, expired or revoked"))?
        } else {
            ClientCredentials::from_request_parts(parts, state).await?.key
        };
        request_log::authenticated(&key);
        if key.scope == KeyScope::ReadOnly && writes(parts) {
            return Err(ApiError::not_authorized("this API key is read-only"));
        }
        Ok(Self { account_id: key.environment_id.clone(), key })
    }
}

/// Whether a request changes something. Checking a signature is a POST that writes nothing.
fn writes(parts: &Parts) -> bool {
    use axum::http::Method;
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    !safe && parts.uri.path() != "/v1/notifications/verify-webhook-signature"
}

/// A merchant authenticated by Basic client credentials only (the OAuth token endpoint needs these).
/// During a roll's grace period the secret before it works too, until `until`.
pub struct ClientCredentials {
    pub key: ApiKey,
    /// When the credentials stop working: set when the secret from before the last roll was given.
    pub until: Option<Timestamp>,
}

impl FromRequestParts<AppState> for ClientCredentials {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let refused = || ApiError::unauthenticated("the client id and secret are not valid");
        let Some(encoded) = strip_scheme(header, "Basic") else {
            return Err(ApiError::unauthenticated(
                "this call needs Basic credentials base64(client_id:client_secret) or a Bearer access token",
            ));
        };
        let decoded = BASE64.decode(encoded).ok().and_then(|raw| String::from_utf8(raw).ok()).ok_or_else(refused)?;
        let (client_id, secret) = decoded.split_once(':').ok_or_else(refused)?;
        let verify = async {
            // Hashed before the lookup, so that an unknown client id takes as long as a wrong secret.
            let presented = state.keyring.hash_credential(secret);
            let found = state.store.find_credentials(client_id).await?;
            Ok(found.and_then(|c| {
                let matched = secret_matches(&c, &presented, Timestamp::now())?;
                Some(Self { key: c.key, until: matched.until() })
            }))
        };
        let credentials =
            throttled(state, &attempt_of(Some(client_id), peer(parts)), verify).await?.ok_or_else(refused)?;
        request_log::authenticated(&credentials.key);
        Ok(credentials)
    }
}

/// Which of a key's secrets was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretMatch {
    Current,
    /// The one before the last roll, which works until then.
    Previous(Timestamp),
}

impl SecretMatch {
    pub fn until(self) -> Option<Timestamp> {
        match self {
            Self::Current => None,
            Self::Previous(until) => Some(until),
        }
    }
}

/// Whether the presented secret is the key's, or the one before its last roll while that still works.
pub fn secret_matches(credentials: &KeyCredentials, presented: &[u8; 32], now: Timestamp) -> Option<SecretMatch> {
    let current = bool::from(presented.ct_eq(&credentials.secret_hash));
    let previous = match (credentials.previous_hash, credentials.key.previous_expires_at) {
        (Some(hash), Some(until)) if until > now => bool::from(presented.ct_eq(&hash)).then_some(until),
        _ => None,
    };
    match (current, previous) {
        (true, _) => Some(SecretMatch::Current),
        (false, Some(until)) => Some(SecretMatch::Previous(until)),
        (false, None) => None,
    }
}

/// The credentials after `Scheme ` (the scheme name is case-insensitive).
fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim()).filter(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        events: Vec<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn detail_of(body: &str) -> (u16, String) {
        let error = parse_json::<Outer>(body.as_bytes()).unwrap_err();
        let response = axum::response::IntoResponse::into_response(error);
        (response.status().as_u16(), format!("{response:?}"))
    }

    #[test]
    fn wrong_types_and_bad_json_are_400() {
        assert_eq!(detail_of(r#"{"events":[{"count":1},{"count":"x"}]}"#).0, 400);
        assert_eq!(detail_of(r#"{"events":"#).0, 400);
        assert_eq!(detail_of(r#"{"events":[]} trailing"#).0, 400);
        assert!(parse_json::<Outer>(br#"{"events":[{"count":1}]}"#).is_ok());
    }

    #[test]
    fn pointers_name_the_failing_field() {
        let mut deserializer = serde_json::Deserializer::from_str(r#"{"events":[{"count":1},{"count":"x"}]}"#);
        let error = serde_path_to_error::deserialize::<_, Outer>(&mut deserializer).unwrap_err();
        assert_eq!(json_pointer(error.path()), "/events/1/count");
    }

    #[test]
    fn schemes_are_case_insensitive_and_need_credentials() {
        assert_eq!(strip_scheme("bearer abc", "Bearer"), Some("abc"));
        assert_eq!(strip_scheme("Basic ", "Basic"), None);
        assert_eq!(strip_scheme("Token abc", "Bearer"), None);
    }
}
