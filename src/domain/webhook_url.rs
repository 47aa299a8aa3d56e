//! The URL a webhook delivers to, and the kind of destination its scheme names.
//!
//! `http(s)://` is a receiver that is POSTed to. `amqp://`, `nats://` and `redis://` name a message broker
//! the merchant runs: a RabbitMQ exchange, a NATS JetStream subject or a Redis stream. A broker URL may
//! carry a password (or, for NATS, a token); it is taken out when the URL is parsed, so that the URL kept
//! and shown everywhere says `***` in its place and only the sealed secret can put it back.

use std::collections::HashSet;

/// What a shown URL has where its secret was.
pub const HIDDEN: &str = "***";

/// A webhook URL as kept and shown: an absolute `http`, `https`, `amqp`, `nats` or `redis` URL with a host
/// and no fragment, at most 2,048 bytes, whose password (if any) is [`HIDDEN`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

/// Where a webhook's deliveries go, by the URL's scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DestinationKind {
    /// An HTTP receiver, POSTed to.
    Http,
    /// A RabbitMQ exchange (AMQP 0-9-1), published to with publisher confirms.
    Amqp,
    /// A NATS JetStream subject, published to and acknowledged by the stream.
    Nats,
    /// A Redis stream, appended to with `XADD`.
    Redis,
}

impl DestinationKind {
    pub const ALL: [Self; 4] = [Self::Http, Self::Amqp, Self::Nats, Self::Redis];

    pub fn of_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "http" | "https" => Some(Self::Http),
            "amqp" => Some(Self::Amqp),
            "nats" => Some(Self::Nats),
            "redis" => Some(Self::Redis),
            _ => None,
        }
    }

    /// The name used in the API and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Amqp => "amqp",
            Self::Nats => "nats",
            Self::Redis => "redis",
        }
    }

    /// The port a URL without one means.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Amqp => 5672,
            Self::Nats => 4222,
            Self::Redis => 6379,
        }
    }

    /// The query parameters a URL of this kind takes, and whether each is required.
    fn parameters(self) -> &'static [(&'static str, bool)] {
        match self {
            Self::Http => &[],
            Self::Amqp => &[("exchange", false), ("routing_key", false)],
            Self::Nats => &[("subject", true)],
            Self::Redis => &[("stream", true)],
        }
    }
}

/// Why a string is not an acceptable webhook URL.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookUrlError {
    #[error("the URL is not a valid absolute URL")]
    Malformed,
    #[error("the URL must use http, https, amqp, nats or redis")]
    Scheme,
    #[error("the URL must use http or https")]
    NotHttp,
    #[error("an http(s) URL must not carry a user name or password")]
    Credentials,
    #[error("the URL must not have a fragment")]
    Fragment,
    #[error("the URL is longer than 2048 bytes")]
    TooLong,
    #[error("{kind} URLs take no parameter \"{name}\"; they take {allowed}")]
    UnknownParameter { kind: &'static str, name: String, allowed: String },
    #[error("{0} URLs need the parameter \"{1}\"")]
    MissingParameter(&'static str, &'static str),
    #[error("\"{0}\" is given twice")]
    DuplicateParameter(String),
    #[error("{0}")]
    BadParameter(String),
    #[error(
        "the password {HIDDEN} stands for the one kept for this broker and user; give the real password for a new one"
    )]
    HiddenSecret,
}

/// A parsed webhook URL: the form kept and shown, and the secret taken out of it.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedUrl {
    pub url: WebhookUrl,
    pub secret: Option<String>,
    /// The URL said [`HIDDEN`] where its secret goes: the caller sent back a URL it was shown, and means
    /// the secret it already has.
    pub keeps_secret: bool,
}

impl WebhookUrl {
    pub const MAX_LEN: usize = 2048;

    /// An `http` or `https` URL without credentials (the operator's notice URL, the demo's sinks).
    pub fn parse(text: &str) -> Result<Self, WebhookUrlError> {
        let parsed = Self::parse_destination(text)?;
        if parsed.url.kind() != DestinationKind::Http {
            return Err(WebhookUrlError::NotHttp);
        }
        Ok(parsed.url)
    }

    /// Any destination's URL, with its secret taken out.
    pub fn parse_destination(text: &str) -> Result<ParsedUrl, WebhookUrlError> {
        if text.len() > Self::MAX_LEN {
            return Err(WebhookUrlError::TooLong);
        }
        let mut url = url::Url::parse(text).map_err(|_| WebhookUrlError::Malformed)?;
        let kind = DestinationKind::of_scheme(url.scheme()).ok_or(WebhookUrlError::Scheme)?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(WebhookUrlError::Malformed);
        }
        if url.fragment().is_some() {
            return Err(WebhookUrlError::Fragment);
        }
        if kind == DestinationKind::Http {
            if !url.username().is_empty() || url.password().is_some() {
                return Err(WebhookUrlError::Credentials);
            }
            return Ok(ParsedUrl { url: Self(url.to_string()), secret: None, keeps_secret: false });
        }
        check_parameters(kind, &url)?;
        check_path(kind, &url)?;
        let (secret, keeps_secret) = take_secret(kind, &mut url)?;
        Ok(ParsedUrl { url: Self(url.to_string()), secret, keeps_secret })
    }

    pub fn from_trusted(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> DestinationKind {
        let scheme = self.0.split(':').next().unwrap_or_default();
        DestinationKind::of_scheme(scheme).unwrap_or(DestinationKind::Http)
    }

    /// Whether `other` names the same broker and user (scheme, host, port, user name): the only case in
    /// which a kept secret may go with it.
    pub fn same_endpoint(&self, other: &WebhookUrl) -> bool {
        let identity = |url: &WebhookUrl| {
            let parsed = url::Url::parse(&url.0).ok()?;
            let port = parsed.port().unwrap_or(url.kind().default_port());
            Some((
                parsed.scheme().to_owned(),
                parsed.host_str()?.to_ascii_lowercase(),
                port,
                parsed.username().to_owned(),
            ))
        };
        identity(self).is_some_and(|mine| identity(other) == Some(mine))
    }

    /// Whether the URL has a hidden secret that [`WebhookUrl::with_secret`] puts back.
    pub fn hides_secret(&self) -> bool {
        url::Url::parse(&self.0).is_ok_and(|url| url.password() == Some(HIDDEN) || url.username() == HIDDEN)
    }

    /// The URL with its secret put back where it shows [`HIDDEN`]: what a broker client connects with.
    pub fn with_secret(&self, secret: Option<&str>) -> String {
        let (Some(secret), Ok(mut url)) = (secret, url::Url::parse(&self.0)) else { return self.0.clone() };
        if url.password() == Some(HIDDEN) {
            let _ = url.set_password(Some(secret));
        } else if url.username() == HIDDEN {
            let _ = url.set_username(secret);
        }
        url.to_string()
    }
}

/// `text` with the user part of its URL authority (`user:password@`) replaced by [`HIDDEN`], whatever it
/// holds and whether or not the URL parses; `None` when there is none. For echoing what a caller sent.
pub fn hide_userinfo(text: &str) -> Option<String> {
    let start = text.find("://")? + 3;
    let rest = &text[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some(format!("{}{HIDDEN}{}", &text[..start], &rest[at..]))
}

fn check_parameters(kind: DestinationKind, url: &url::Url) -> Result<(), WebhookUrlError> {
    let allowed = kind.parameters();
    let mut seen = HashSet::new();
    for (name, value) in url.query_pairs() {
        if !allowed.iter().any(|(known, _)| *known == name) {
            let list: Vec<&str> = allowed.iter().map(|(name, _)| *name).collect();
            return Err(WebhookUrlError::UnknownParameter {
                kind: kind.as_str(),
                name: name.into_owned(),
                allowed: list.join(" and "),
            });
        }
        if !seen.insert(name.clone()) {
            return Err(WebhookUrlError::DuplicateParameter(name.into_owned()));
        }
        check_value(kind, &name, &value)?;
    }
    if let Some((name, _)) = allowed.iter().find(|(name, required)| *required && !seen.contains(*name)) {
        return Err(WebhookUrlError::MissingParameter(kind.as_str(), name));
    }
    let exchange = url.query_pairs().find(|(name, _)| name == "exchange").map(|(_, v)| v.into_owned());
    let routing_key = url.query_pairs().find(|(name, _)| name == "routing_key").map(|(_, v)| v.into_owned());
    if kind == DestinationKind::Amqp
        && exchange.unwrap_or_default().is_empty()
        && routing_key.unwrap_or_default().is_empty()
    {
        return Err(WebhookUrlError::BadParameter(
            "an amqp URL names an exchange, a routing key or both (the default exchange routes by queue name)".into(),
        ));
    }
    Ok(())
}

fn check_value(kind: DestinationKind, name: &str, value: &str) -> Result<(), WebhookUrlError> {
    let bad = |why: &str| Err(WebhookUrlError::BadParameter(format!("\"{name}\" {why}")));
    match (kind, name) {
        (DestinationKind::Amqp, _) if value.len() > 255 => bad("is longer than 255 bytes"),
        (DestinationKind::Nats, "subject") => {
            let tokens_ok = value.split('.').all(|token| !token.is_empty() && token != "*" && token != ">");
            if value.len() > 255 || !tokens_ok || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                bad("is a NATS subject to publish to: dot-separated tokens, no wildcards or spaces, at most 255 bytes")
            } else {
                Ok(())
            }
        }
        (DestinationKind::Redis, "stream") if value.is_empty() || value.len() > 512 => {
            bad("is the key of a stream, 1 to 512 bytes")
        }
        _ => Ok(()),
    }
}

/// The path names the AMQP virtual host (`/` or empty for the default) and the Redis database (`/0`);
/// NATS takes none.
fn check_path(kind: DestinationKind, url: &url::Url) -> Result<(), WebhookUrlError> {
    let path = url.path();
    let ok = match kind {
        DestinationKind::Amqp => !path.trim_start_matches('/').contains('/'),
        DestinationKind::Redis => {
            let db = path.trim_start_matches('/');
            db.is_empty() || (db.len() <= 4 && db.bytes().all(|b| b.is_ascii_digit()))
        }
        DestinationKind::Nats => path.is_empty() || path == "/",
        DestinationKind::Http => true,
    };
    if ok {
        return Ok(());
    }
    let why = match kind {
        DestinationKind::Amqp => "an amqp URL's path is one virtual host, such as /%2f or /payments",
        DestinationKind::Redis => "a redis URL's path is a database number, such as /0",
        _ => "a nats URL has no path; the subject is the parameter \"subject\"",
    };
    Err(WebhookUrlError::BadParameter(why.into()))
}

/// Takes the password (or a NATS token, written as a user name alone) out of the URL, leaving [`HIDDEN`].
fn take_secret(kind: DestinationKind, url: &mut url::Url) -> Result<(Option<String>, bool), WebhookUrlError> {
    if let Some(password) = url.password().map(str::to_owned) {
        if password == HIDDEN {
            return Ok((None, true));
        }
        url.set_password(Some(HIDDEN)).map_err(|()| WebhookUrlError::Malformed)?;
        return Ok((Some(password), false));
    }
    let user = url.username().to_owned();
    if kind == DestinationKind::Nats && !user.is_empty() {
        if user == HIDDEN {
            return Ok((None, true));
        }
        url.set_username(HIDDEN).map_err(|()| WebhookUrlError::Malformed)?;
        return Ok((Some(user), false));
    }
    Ok((None, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https() {
        assert!(WebhookUrl::parse("https://api.example.com/index.php?option=com_x&format=raw").is_ok());
        assert_eq!(WebhookUrl::parse("http://127.0.0.1:3000").unwrap().as_str(), "http://127.0.0.1:3000/");
        assert_eq!(WebhookUrl::parse("http://127.0.0.1:3000").unwrap().kind(), DestinationKind::Http);
    }

    #[test]
    fn rejects_what_cannot_be_delivered_to() {
        assert_eq!(WebhookUrl::parse("ftp://example.com/"), Err(WebhookUrlError::Scheme));
        assert_eq!(WebhookUrl::parse("not a url"), Err(WebhookUrlError::Malformed));
        assert_eq!(WebhookUrl::parse("file:///etc/passwd"), Err(WebhookUrlError::Scheme));
        assert_eq!(WebhookUrl::parse("https://u:p@example.com/"), Err(WebhookUrlError::Credentials));
        assert_eq!(WebhookUrl::parse("https://example.com/#x"), Err(WebhookUrlError::Fragment));
        assert_eq!(WebhookUrl::parse("nats://example.com?subject=a"), Err(WebhookUrlError::NotHttp));
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(WebhookUrl::parse(&long), Err(WebhookUrlError::TooLong));
    }

    #[test]
    fn broker_urls_lose_their_secret_and_get_it_back() {
        let amqp = WebhookUrl::parse_destination(
            "amqp://shop:s3cr%2Ft@mq.example.com:5673/%2f?exchange=payments&routing_key=paid",
        )
        .unwrap();
        assert_eq!(amqp.url.as_str(), "amqp://shop:***@mq.example.com:5673/%2f?exchange=payments&routing_key=paid");
        assert_eq!(amqp.url.kind(), DestinationKind::Amqp);
        assert_eq!(amqp.secret.as_deref(), Some("s3cr%2Ft"));
        assert!(amqp.url.hides_secret());
        assert_eq!(
            amqp.url.with_secret(amqp.secret.as_deref()),
            "amqp://shop:s3cr%2Ft@mq.example.com:5673/%2f?exchange=payments&routing_key=paid"
        );
        let token = WebhookUrl::parse_destination("nats://t0ken@127.0.0.1:4222?subject=shop.events").unwrap();
        assert_eq!(token.url.as_str(), "nats://***@127.0.0.1:4222?subject=shop.events");
        assert_eq!(token.url.with_secret(Some("t0ken")), "nats://t0ken@127.0.0.1:4222?subject=shop.events");
        let plain = WebhookUrl::parse_destination("redis://127.0.0.1:6379/2?stream=herald").unwrap();
        assert_eq!((plain.secret, plain.keeps_secret, plain.url.hides_secret()), (None, false, false));
        let shown_back = WebhookUrl::parse_destination("redis://:***@127.0.0.1/0?stream=s").unwrap();
        assert_eq!((shown_back.secret, shown_back.keeps_secret), (None, true));
        let other_stream = WebhookUrl::parse_destination("redis://:***@127.0.0.1:6379/1?stream=t").unwrap();
        assert!(shown_back.url.same_endpoint(&other_stream.url), "another stream on the same broker");
        for elsewhere in [
            "redis://:***@127.0.0.2/0?stream=s",
            "redis://:***@127.0.0.1:6380/0?stream=s",
            "redis://u:***@127.0.0.1/0?stream=s",
            "nats://***@127.0.0.1:6379?subject=s",
        ] {
            let moved = WebhookUrl::parse_destination(elsewhere).unwrap();
            assert!(!shown_back.url.same_endpoint(&moved.url), "{elsewhere}");
        }
    }

    #[test]
    fn userinfo_is_hidden_even_in_what_does_not_parse() {
        assert_eq!(hide_userinfo("amqp://u:p@h/%2f?x").as_deref(), Some("amqp://***@h/%2f?x"));
        assert_eq!(hide_userinfo("nats://t@k@n@h?subject=a").as_deref(), Some("nats://***@h?subject=a"));
        assert_eq!(hide_userinfo("bad://a:b c@h").as_deref(), Some("bad://***@h"));
        assert_eq!(hide_userinfo("https://h/path@x"), None, "an @ after the authority is not userinfo");
        assert_eq!(hide_userinfo("no scheme"), None);
    }

    #[test]
    fn broker_urls_name_their_target_exactly() {
        let refused = |text: &str| WebhookUrl::parse_destination(text).unwrap_err();
        assert_eq!(refused("nats://127.0.0.1:4222"), WebhookUrlError::MissingParameter("nats", "subject"));
        assert_eq!(refused("redis://127.0.0.1"), WebhookUrlError::MissingParameter("redis", "stream"));
        assert!(matches!(refused("amqp://h/%2f?exchange=e&queue=q"), WebhookUrlError::UnknownParameter { .. }));
        assert!(matches!(refused("amqp://h/"), WebhookUrlError::BadParameter(_)));
        assert!(matches!(refused("nats://h?subject=a.*"), WebhookUrlError::BadParameter(_)));
        assert!(matches!(refused("nats://h?subject=a..b"), WebhookUrlError::BadParameter(_)));
        assert!(matches!(refused("nats://h/path?subject=a"), WebhookUrlError::BadParameter(_)));
        assert!(matches!(refused("redis://h/abc?stream=s"), WebhookUrlError::BadParameter(_)));
        assert!(matches!(refused("amqp://h/a/b?exchange=e"), WebhookUrlError::BadParameter(_)));
        assert_eq!(refused("redis://h?stream=a&stream=b"), WebhookUrlError::DuplicateParameter("stream".into()));
        assert_eq!(refused("redis://?stream=a"), WebhookUrlError::Malformed);
        assert!(WebhookUrl::parse_destination("amqp://h?routing_key=orders").is_ok(), "the default exchange");
    }
}
