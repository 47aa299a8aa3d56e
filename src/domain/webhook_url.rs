//! The URL a webhook delivers to.

/// An absolute `http` or `https` URL with a host, no credentials and no fragment, at most 2,048 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

/// Why a string is not an acceptable webhook URL.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookUrlError {
    #[error("the URL is not a valid absolute URL")]
    Malformed,
    #[error("the URL must use http or https")]
    Scheme,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL must not have a fragment")]
    Fragment,
    #[error("the URL is longer than 2048 bytes")]
    TooLong,
}

impl WebhookUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(text: &str) -> Result<Self, WebhookUrlError> {
        if text.len() > Self::MAX_LEN {
            return Err(WebhookUrlError::TooLong);
        }
        let url = url::Url::parse(text).map_err(|_| WebhookUrlError::Malformed)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookUrlError::Scheme);
        }
        if url.host().is_none() {
            return Err(WebhookUrlError::Malformed);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::Credentials);
        }
        if url.fragment().is_some() {
            return Err(WebhookUrlError::Fragment);
        }
        Ok(Self(url.to_string()))
    }

    pub fn from_trusted(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https() {
        assert!(WebhookUrl::parse("https://api.example.com/index.php?option=com_x&format=raw").is_ok());
        assert_eq!(WebhookUrl::parse("http://127.0.0.1:3000").unwrap().as_str(), "http://127.0.0.1:3000/");
    }

    #[test]
    fn rejects_what_cannot_be_delivered_to() {
        assert_eq!(WebhookUrl::parse("ftp://example.com/"), Err(WebhookUrlError::Scheme));
        assert_eq!(WebhookUrl::parse("not a url"), Err(WebhookUrlError::Malformed));
        assert_eq!(WebhookUrl::parse("file:///etc/passwd"), Err(WebhookUrlError::Scheme));
        assert_eq!(WebhookUrl::parse("https://u:p@example.com/"), Err(WebhookUrlError::Credentials));
        assert_eq!(WebhookUrl::parse("https://example.com/#x"), Err(WebhookUrlError::Fragment));
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(WebhookUrl::parse(&long), Err(WebhookUrlError::TooLong));
    }
}
