//! A webhook as the worker sees it: where to send, and the signing keys already decrypted and prepared.

use std::sync::Arc;

use herald_signature::standard::{AsymmetricKey, SigningSecret};

use super::broker::BrokerAddress;
use super::endpoint_auth::{OAuth2Credentials, TlsIdentity};
use super::format::Keys;
use crate::domain::delivery_policy::{DeliveryPolicy, Sealed};
use crate::domain::event_type::Subscription;
use crate::domain::model::{DeliveryFormat, SigningAlgorithm, WebhookStatus};
use crate::domain::webhook_url::DestinationKind;
use crate::domain::{AccountId, WebhookId, WebhookUrl};
use crate::fanout::Subscriber;
use crate::filter::Filter;
use crate::keyring::{Keyring, KeyringError};
use crate::paypal_identity::PaypalIdentity;
use crate::store::StoredTarget;

/// Everything needed to sign and send to one webhook. Built once per publish or claim, shared by jobs.
#[derive(Debug)]
pub struct Target {
    pub webhook_id: WebhookId,
    pub account_id: AccountId,
    pub url: WebhookUrl,
    pub format: DeliveryFormat,
    pub subscriptions: Vec<Subscription>,
    /// Newest first; each live secret or key adds one signature.
    pub keys: Keys,
    /// The `api_version` of Stripe envelopes.
    pub api_version: Option<String>,
    /// Pacing, ordering and the merchant's custom headers.
    pub policy: DeliveryPolicy,
    /// The policy's payload filter, compiled.
    pub filter: Option<Filter>,
    /// Where a broker destination is, with its secret put back; `None` for an HTTP URL.
    pub broker: Option<BrokerAddress>,
    /// The OAuth2 client credentials deliveries get their bearer token with.
    pub oauth2: Option<OAuth2Credentials>,
    /// The client certificate (and the receiver's CA) for mutual TLS.
    pub tls: Option<TlsIdentity>,
}

/// Why a stored target could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("a signing secret of webhook {0} could not be decrypted")]
    Sealed(String, #[source] KeyringError),
    #[error("a signing secret of webhook {0} is not a valid key")]
    Key(String, #[source] herald_signature::standard::SignatureError),
    #[error("the URL secret of webhook {0} could not be decrypted")]
    UrlSecret(String),
    #[error("the OAuth2 client secret or TLS key of webhook {0} could not be decrypted")]
    AuthSecret(String),
    #[error("webhook {0} is signed with the installation's PayPal key, which was not loaded")]
    NoPaypalIdentity(String),
}

impl Target {
    /// Decrypts the target's keys; `paypal` is the installation's identity, needed for `rsa-sha256` targets.
    pub fn open(
        stored: &StoredTarget,
        keyring: &Keyring,
        paypal: Option<&Arc<PaypalIdentity>>,
    ) -> Result<Self, TargetError> {
        let id = stored.webhook_id.as_str();
        let opened = stored
            .sealed_secrets
            .iter()
            .map(|sealed| keyring.open(sealed).map_err(|e| TargetError::Sealed(id.to_owned(), e)))
            .collect::<Result<Vec<_>, _>>()?;
        let keys = match stored.signing {
            SigningAlgorithm::HmacSha256 => Keys::Hmac(
                opened
                    .into_iter()
                    .map(|key| SigningSecret::from_key(key).map_err(|e| TargetError::Key(id.to_owned(), e)))
                    .collect::<Result<_, _>>()?,
            ),
            SigningAlgorithm::Ed25519 => Keys::Ed25519(
                opened
                    .into_iter()
                    .filter_map(|seed| <[u8; 32]>::try_from(seed.as_slice()).ok())
                    .map(AsymmetricKey::from_seed)
                    .collect(),
            ),
            SigningAlgorithm::RsaSha256 => {
                Keys::Rsa(paypal.cloned().ok_or_else(|| TargetError::NoPaypalIdentity(id.to_owned()))?)
            }
        };
        let broker = match stored.url.kind() {
            DestinationKind::Http => None,
            _ => {
                let secret = stored.policy.url_secret.as_ref().map(|sealed| open_text(keyring, sealed)).transpose();
                let secret = secret.map_err(|()| TargetError::UrlSecret(id.to_owned()))?;
                BrokerAddress::parse(&stored.url.with_secret(secret.as_deref()))
            }
        };
        let unsealed =
            |sealed: &Sealed| open_text(keyring, sealed).map_err(|()| TargetError::AuthSecret(id.to_owned()));
        let oauth2 = match &stored.policy.oauth2 {
            Some(client) => Some(OAuth2Credentials {
                token_url: client.token_url.clone(),
                client_id: client.client_id.clone(),
                client_secret: unsealed(&client.client_secret)?,
                scope: client.scope.clone(),
            }),
            None => None,
        };
        let tls = match &stored.policy.tls {
            Some(tls) => Some(TlsIdentity {
                certificate_pem: tls.client_certificate_pem.clone(),
                key_pem: unsealed(&tls.client_key)?,
                ca_pem: tls.ca_certificate_pem.clone(),
            }),
            None => None,
        };
        Ok(Self {
            broker,
            oauth2,
            tls,
            webhook_id: stored.webhook_id.clone(),
            account_id: stored.account_id.clone(),
            url: stored.url.clone(),
            format: stored.format,
            subscriptions: stored.subscriptions.clone(),
            keys,
            api_version: stored.api_version.clone(),
            policy: stored.policy.clone(),
            filter: stored.policy.filter.as_deref().and_then(|source| compiled(id, source)),
        })
    }
}

/// A sealed text secret, opened.
fn open_text(keyring: &Keyring, sealed: &Sealed) -> Result<String, ()> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&sealed.0).map_err(|_| ())?;
    String::from_utf8(keyring.open(&bytes).map_err(|_| ())?).map_err(|_| ())
}

/// A stored filter compiled. Filters are checked when they are saved; one this version refuses all the
/// same (its limits changed) is left out with a warning, so the webhook gets its events unfiltered
/// rather than none.
fn compiled(webhook: &str, source: &str) -> Option<Filter> {
    Filter::compile(source)
        .inspect_err(|error| tracing::warn!(webhook, error = %error, "a stored filter is not usable; the webhook gets every event it subscribes to"))
        .ok()
}

impl Subscriber for Target {
    fn status(&self) -> WebhookStatus {
        // The store hands out targets for enabled webhooks only.
        WebhookStatus::Enabled
    }

    fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }
}
