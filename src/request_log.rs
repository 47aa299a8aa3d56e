//! The merchant API's request log: what one request's record keeps of its bodies (cut, with every
//! secret redacted; pure), and the recorder that writes records in batches off the request path.
//!
//! A request is answered before its record is written: records go through a bounded channel to one task
//! that stores them many at a time (one transaction per batch, which also notes when each key was last
//! used). When the store falls behind and the channel is full, records are dropped and counted, never
//! waited for — a log must not slow the API or the delivery path down. With the log switched off, the
//! same path still notes each key's last use.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::{ApiKeyId, Timestamp};
use crate::store::{RequestLog, Store};

/// How much of each body a record keeps.
pub const KEPT_BODY_BYTES: usize = 16 * 1024;
/// What stands for a secret in a kept body.
pub const REDACTED: &str = "[redacted]";
/// Records waiting to be written; past this, new ones are dropped. (At most about 64 MiB of kept bodies.)
const QUEUE: usize = 2_000;
/// The most records in one write.
const BATCH: usize = 500;
/// How long the recorder gathers a batch after its first record.
const GATHER: Duration = Duration::from_millis(50);

/// Whether a field of this name holds a secret: client secrets, webhook and signing secrets, tokens,
/// passwords, private keys, `Authorization` headers.
pub fn is_secret_name(name: &str) -> bool {
    let folded: String = name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    const NOT_SECRET: [&str; 4] = ["tokenurl", "tokentype", "apikeyid", "expiresin"];
    const SECRET: [&str; 10] = [
        "secret",
        "password",
        "passphrase",
        "token",
        "authorization",
        "apikey",
        "privatekey",
        "keypem",
        "credential",
        "csrf",
    ];
    !NOT_SECRET.contains(&folded.as_str()) && SECRET.iter().any(|part| folded.contains(part))
}

/// Whether a value is a secret whatever its field is called: Herald's own secrets and tokens.
fn is_secret_value(value: &str) -> bool {
    const PREFIXES: [&str; 4] = ["whsec_", "whsk_", "hsk_", "hat_"];
    PREFIXES.iter().any(|prefix| value.starts_with(prefix))
}

/// A string with the credentials of a URL in it hidden, or `None` when there are none: the whole user
/// part (`https://***@host`, whatever it holds and whether or not the URL parses) and the values of
/// secret-named query parameters.
fn redact_url(text: &str) -> Option<String> {
    let hidden = crate::domain::webhook_url::hide_userinfo(text);
    let mut changed = hidden.is_some();
    let text = hidden.as_deref().unwrap_or(text);
    let start = text.find("://")? + 3;
    let rest = &text[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start + authority_end]);
    let after = &rest[authority_end..];
    let Some(question) = after.find('?') else {
        out.push_str(after);
        return changed.then_some(out);
    };
    out.push_str(&after[..=question]);
    let query_and_fragment = &after[question + 1..];
    let query_end = query_and_fragment.find('#').unwrap_or(query_and_fragment.len());
    let pairs = query_and_fragment[..query_end].split('&').map(|pair| match pair.split_once('=') {
        Some((name, value)) if is_secret_name(name) || is_secret_value(value) => {
            changed = true;
            format!("{name}={REDACTED}")
        }
        _ => pair.to_owned(),
    });
    out.push_str(&pairs.collect::<Vec<_>>().join("&"));
    out.push_str(&query_and_fragment[query_end..]);
    changed.then_some(out)
}

fn redact_value(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                match field {
                    Value::Null => {}
                    // Custom request headers may carry any credential under any name.
                    Value::Object(headers) if name.eq_ignore_ascii_case("headers") => {
                        headers.values_mut().filter(|v| !v.is_null()).for_each(|v| *v = Value::String(REDACTED.into()));
                    }
                    _ if is_secret_name(name) => *field = Value::String(REDACTED.into()),
                    _ => redact_value(field),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::String(text) if is_secret_value(text) => *text = REDACTED.into(),
        Value::String(text) => {
            if let Some(redacted) = redact_url(text) {
                *text = redacted;
            }
        }
        _ => {}
    }
}

/// `name=value` pairs with secret values redacted (a form body, a query string).
fn redact_pairs(text: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text).ok()?;
    // Names as forms and queries have them; anything else is text that only looks like a form.
    let named =
        |name: &str| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.[]".contains(&b));
    if !pairs.iter().all(|(name, _)| named(name)) {
        return None;
    }
    let redacted = pairs.into_iter().map(|(name, value)| {
        let secret = is_secret_name(&name) || is_secret_value(&value);
        let value = if secret { REDACTED.to_owned() } else { redact_url(&value).unwrap_or(value) };
        (name, value)
    });
    serde_urlencoded::to_string(redacted.collect::<Vec<_>>()).ok()
}

/// What a record keeps of a body: JSON laid out as it came with every secret redacted, or a form with
/// its secret values redacted, cut to [`KEPT_BODY_BYTES`]. `complete` says whether `body` is the whole
/// body; a body that is neither JSON nor a form, or was not read whole, is not kept (only its size),
/// since nothing could be redacted in it.
pub fn kept_body(body: &[u8], complete: bool) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let redacted = match complete {
        true => serde_json::from_slice::<Value>(body)
            .ok()
            .map(|mut value| {
                redact_value(&mut value);
                value.to_string()
            })
            .or_else(|| std::str::from_utf8(body).ok().and_then(redact_pairs)),
        false => None,
    };
    Some(match redacted {
        Some(text) => cut(text, KEPT_BODY_BYTES),
        None => format!("[{} bytes not kept: not JSON or a form]", body.len()),
    })
}

/// A path with its query string, any secret in the query redacted.
pub fn kept_path(path: &str, query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        None => path.to_owned(),
        Some(query) => format!("{path}?{}", redact_pairs(query).unwrap_or_else(|| REDACTED.to_owned())),
    }
}

fn cut(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str("…[cut]");
    text
}

/// What the recorder takes: a request's record, or (with the log off) only that a key was used.
pub enum Recorded {
    Request(Box<RequestLog>),
    KeyUsed(ApiKeyId, Timestamp),
}

/// Takes records from the API and has them written; cheap to clone.
#[derive(Clone)]
pub struct RequestRecorder {
    sender: mpsc::Sender<Recorded>,
    /// Whole records are kept; otherwise only the keys' last use.
    enabled: bool,
    dropped: Arc<AtomicU64>,
}

/// The recorder's writing side, run by the application until it stops.
pub struct RecorderTask {
    receiver: mpsc::Receiver<Recorded>,
    store: Arc<dyn Store>,
}

impl RequestRecorder {
    /// A recorder and the task that writes what it takes; with `enabled: false` it notes only when each
    /// key was last used.
    pub fn new(store: Arc<dyn Store>, enabled: bool) -> (Self, RecorderTask) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        (Self { sender, enabled, dropped: Arc::default() }, RecorderTask { receiver, store })
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Hands a request over without waiting (only its key's use while the log is off); a full queue
    /// drops it and says so (false).
    pub fn record(&self, log: RequestLog) -> bool {
        let recorded = match self.enabled {
            true => Recorded::Request(Box::new(log)),
            false => Recorded::KeyUsed(log.api_key_id, log.created_at),
        };
        if self.sender.try_send(recorded).is_ok() {
            return true;
        }
        if self.dropped.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
            tracing::warn!("request logs are dropped: the store does not keep up");
        }
        false
    }
}

impl RecorderTask {
    /// Writes batches until `shutdown`, then what is still queued.
    pub async fn run(mut self, shutdown: CancellationToken) {
        loop {
            let first = tokio::select! {
                first = self.receiver.recv() => first,
                () = shutdown.cancelled() => None,
            };
            let Some(first) = first else { break };
            let mut batch = vec![first];
            let gathering = tokio::time::sleep(GATHER);
            tokio::pin!(gathering);
            while batch.len() < BATCH {
                tokio::select! {
                    next = self.receiver.recv() => match next {
                        Some(recorded) => batch.push(recorded),
                        None => break,
                    },
                    () = &mut gathering => break,
                }
            }
            self.write(batch).await;
        }
        self.receiver.close();
        let mut rest = Vec::new();
        while let Ok(recorded) = self.receiver.try_recv() {
            rest.push(recorded);
            if rest.len() == BATCH {
                self.write(std::mem::take(&mut rest)).await;
            }
        }
        self.write(rest).await;
    }

    async fn write(&self, batch: Vec<Recorded>) {
        let (mut logs, mut used) = (Vec::new(), Vec::new());
        for recorded in batch {
            match recorded {
                Recorded::Request(log) => logs.push(*log),
                Recorded::KeyUsed(key, at) => used.push((key, at)),
            }
        }
        if !logs.is_empty() {
            let count = logs.len();
            if let Err(error) = self.store.record_requests(logs).await {
                tracing::warn!(count, error = %crate::error_chain::error_chain(&error), "request logs could not be written");
            }
        }
        if !used.is_empty()
            && let Err(error) = self.store.touch_api_keys(crate::store::latest_use(used)).await
        {
            tracing::warn!(error = %crate::error_chain::error_chain(&error), "keys' last use could not be noted");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_wherever_they_are() {
        let body = br#"{"name":"ci","client_secret":"hsk_abc","nested":[{"secret":"whsec_x","public_key":"whpk_y"}],
            "headers":{"Authorization":"Bearer t","X-Api-Key":"k","X-Trace":"ok"},"note":"hat_token",
            "url":"amqp://user:pw@127.0.0.1:5672/v","oauth2":{"token_url":"https://a/t","client_secret":"s"}}"#;
        let kept = kept_body(body, true).unwrap();
        for secret in ["hsk_abc", "whsec_x", "Bearer t", "\"k\"", "hat_token", ":pw@", "\"s\""] {
            assert!(!kept.contains(secret), "{secret} in {kept}");
        }
        for kept_value in ["whpk_y", "X-Trace", "https://a/t", "amqp://***@127.0.0.1"] {
            assert!(kept.contains(kept_value), "{kept_value} missing from {kept}");
        }
    }

    #[test]
    fn credentials_in_urls_are_hidden_whether_or_not_they_parse() {
        let redact = |text: &str| redact_url(text);
        assert_eq!(redact("https://u:pw@host:99999/x").as_deref(), Some("https://***@host:99999/x"));
        assert_eq!(redact("https://TOKEN@host/").as_deref(), Some("https://***@host/"));
        assert_eq!(
            redact("https://host/hook?token=abc&page=2#top").as_deref(),
            Some("https://host/hook?token=[redacted]&page=2#top")
        );
        assert_eq!(redact("https://host/a@b?x=1"), None, "an @ in the path is no user part");
        assert_eq!(redact("no url here"), None);
        let kept =
            kept_body(br#"{"details":[{"value":"https://u:pw@host:99999/"}],"headers":{"X-Auth":"s3cr3t"}}"#, true)
                .unwrap();
        assert!(!kept.contains("pw@") && !kept.contains("s3cr3t"), "{kept}");
    }

    #[test]
    fn forms_and_queries_are_redacted_and_other_bodies_not_kept() {
        let kept = kept_body(b"grant_type=client_credentials&token=hat_1", true).unwrap();
        assert!(kept.contains("grant_type=client_credentials") && !kept.contains("hat_1"), "{kept}");
        assert_eq!(
            kept_path("/v1/x", Some("access_token=abc&page_size=2")),
            "/v1/x?access_token=%5Bredacted%5D&page_size=2"
        );
        assert_eq!(kept_body(b"\x00\x01 secret", true).unwrap(), "[9 bytes not kept: not JSON or a form]");
        assert!(kept_body(br#"{"client_secret":"hsk_"#, false).unwrap().starts_with('['), "a cut body is not kept");
        assert_eq!(kept_body(b"", true), None);
    }

    #[test]
    fn long_bodies_are_cut_on_a_character() {
        let long = format!(r#"{{"text":"{}"}}"#, "é".repeat(20_000));
        let kept = kept_body(long.as_bytes(), true).unwrap();
        assert!(kept.len() <= KEPT_BODY_BYTES + "…[cut]".len() && kept.ends_with("…[cut]"));
    }

    #[test]
    fn names_that_hold_secrets() {
        for name in
            ["client_secret", "access_token", "Authorization", "client_key_pem", "password", "x-api-key", "csrf"]
        {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["token_url", "api_key_id", "idempotency_key", "public_key", "name", "token_type", "expires_in"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
