//! Who is signed in to the dashboard: a signed session cookie, and the CSRF token every form carries.
//!
//! The cookie holds no secret. It names the merchant's client id (or the operator), an expiry, and a tag
//! of the credential it was made with, all under a keyed MAC from the installation's keyring. Every page
//! checks the tag against the stored credential, so rolling an account's client secret (or changing the
//! admin token) ends its sessions on every node without any session table. The CSRF token is another MAC
//! of the cookie, so a page can only be posted to with a token that came from the same session.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use subtle::ConstantTimeEq;

use crate::domain::{AccountId, ApiKey, Mode, Timestamp};
use crate::keyring::Keyring;

pub const COOKIE_NAME: &str = "herald_session";
/// A session lasts a working day.
pub const LIFETIME: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// Who a session is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Merchant { client_id: String },
    Operator,
}

/// A session cookie's content, checked for integrity and expiry but not yet against the credential.
#[derive(Clone, Debug)]
pub struct Claims {
    pub principal: Principal,
    pub expires_at: Timestamp,
    pub credential_tag: String,
    /// The cookie's value, which the CSRF token is derived from.
    raw: String,
}

/// A signed-in merchant, checked against its key's current credential.
#[derive(Clone, Debug)]
pub struct MerchantSession {
    /// The environment on view: the account itself, or its test environment while test mode is on.
    pub account_id: AccountId,
    pub account_name: String,
    pub csrf: String,
    /// The key the merchant signed in with: its scope says what the pages may change.
    pub key: ApiKey,
    /// The mode on view: a live key may switch to test; a test key sees test only.
    pub mode: Mode,
}

/// The signed-in operator.
#[derive(Clone, Debug)]
pub struct OperatorSession {
    pub csrf: String,
}

fn mac(keyring: &Keyring, purpose: &str, text: &str) -> String {
    let digest = keyring.hash_credential(&format!("herald dashboard {purpose}\u{0}{text}"));
    digest[..20].iter().map(|b| format!("{b:02x}")).collect()
}

/// A short tag of a stored credential hash: it changes when the credential does, and reveals nothing.
pub fn credential_tag(keyring: &Keyring, stored_hash: &[u8; 32]) -> String {
    let hex: String = stored_hash.iter().map(|b| format!("{b:02x}")).collect();
    mac(keyring, "credential", &hex)[..16].to_owned()
}

/// The cookie value for a new session.
pub fn issue(keyring: &Keyring, principal: &Principal, credential_tag: &str, now: Timestamp) -> String {
    let who = match principal {
        Principal::Merchant { client_id } => format!("m:{client_id}"),
        Principal::Operator => "o:".to_owned(),
    };
    let payload = format!("{who}|{}|{credential_tag}", now.plus(LIFETIME).as_millis());
    let signature = mac(keyring, "session", &payload);
    format!("{payload}|{signature}")
}

/// The session a cookie value carries, if its MAC is right and it has not expired.
pub fn read(keyring: &Keyring, value: &str, now: Timestamp) -> Option<Claims> {
    let (payload, signature) = value.rsplit_once('|')?;
    let expected = mac(keyring, "session", payload);
    if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        return None;
    }
    let mut fields = payload.split('|');
    let (who, expires, tag) = (fields.next()?, fields.next()?, fields.next()?);
    let principal = match who.split_once(':')? {
        ("m", client_id) if !client_id.is_empty() => Principal::Merchant { client_id: client_id.to_owned() },
        ("o", "") => Principal::Operator,
        _ => return None,
    };
    let expires_at = Timestamp::from_millis(expires.parse().ok()?);
    if expires_at <= now {
        return None;
    }
    Some(Claims { principal, expires_at, credential_tag: tag.to_owned(), raw: value.to_owned() })
}

impl Claims {
    pub fn csrf_token(&self, keyring: &Keyring) -> String {
        mac(keyring, "csrf", &self.raw)
    }
}

/// Whether a posted CSRF token is the one for this session.
pub fn csrf_matches(expected: &str, posted: Option<&str>) -> bool {
    posted.is_some_and(|posted| bool::from(expected.as_bytes().ct_eq(posted.as_bytes())))
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// The `Set-Cookie` value for a session (or, with `None`, one that deletes it).
pub fn set_cookie(value: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match value {
        Some(value) => {
            format!(
                "{COOKIE_NAME}={value}; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                LIFETIME.as_secs()
            )
        }
        None => format!("{COOKIE_NAME}=; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::from_master_key(&[7; 32])
    }

    #[test]
    fn a_session_reads_back_until_it_expires() {
        let keyring = keyring();
        let now = Timestamp::from_millis(1_000_000);
        let principal = Principal::Merchant { client_id: "abc-123_x".into() };
        let value = issue(&keyring, &principal, "tag1", now);
        let claims = read(&keyring, &value, now).unwrap();
        assert_eq!(claims.principal, principal);
        assert_eq!(claims.credential_tag, "tag1");
        assert!(read(&keyring, &value, now.plus(LIFETIME)).is_none());
    }

    #[test]
    fn altered_or_foreign_cookies_are_refused() {
        let keyring = keyring();
        let now = Timestamp::from_millis(1_000_000);
        let value = issue(&keyring, &Principal::Merchant { client_id: "abc".into() }, "tag", now);
        assert!(read(&keyring, &value.replace("m:abc", "m:abd"), now).is_none());
        assert!(read(&keyring, &value.replace("m:abc", "o:"), now).is_none());
        assert!(read(&Keyring::from_master_key(&[8; 32]), &value, now).is_none());
        assert!(read(&keyring, "garbage", now).is_none());
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let keyring = keyring();
        let now = Timestamp::from_millis(1_000_000);
        let one = read(&keyring, &issue(&keyring, &Principal::Operator, "t", now), now).unwrap();
        let two = read(&keyring, &issue(&keyring, &Principal::Operator, "u", now), now).unwrap();
        assert!(csrf_matches(&one.csrf_token(&keyring), Some(&one.csrf_token(&keyring))));
        assert!(!csrf_matches(&one.csrf_token(&keyring), Some(&two.csrf_token(&keyring))));
        assert!(!csrf_matches(&one.csrf_token(&keyring), None));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; herald_session=v|w; herald_lang=fr".parse().unwrap());
        assert_eq!(cookie(&headers, COOKIE_NAME), Some("v|w"));
        assert_eq!(cookie(&headers, "herald_lang"), Some("fr"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
