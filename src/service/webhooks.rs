//! A merchant's webhooks: create, change, delete, show and roll the signing key.
//!
//! Create and update take the same [`WebhookInput`] and check every field with the same function, so a bad
//! value gets the same code whichever way it came.

use std::collections::{BTreeSet, HashMap};

use herald_signature::standard::{AsymmetricKey, SigningSecret};

use super::{Field, Refusal, ServiceError, ServiceResult, Services};
use crate::domain::delivery_policy::{
    ClientTls, DeliveryOrder, DeliveryPolicy, MAX_IN_FLIGHT_RANGE, OAuth2Client, RATE_LIMIT_RANGE, Sealed,
    check_headers,
};
use crate::domain::event_type::Subscription;
use crate::domain::model::{DeliveryFormat, SigningAlgorithm, Webhook, WebhookStatus};
use crate::domain::webhook_url::{DestinationKind, ParsedUrl, WebhookUrlError, hide_userinfo};
use crate::domain::{AccountId, Timestamp, WebhookId, WebhookUrl};
use crate::internal_error::InternalError;
use crate::store::{NewWebhook, WebhookChanges};

const MAX_DESCRIPTION_LEN: usize = 500;
/// Bytes of randomness in a new signing key (the Standard Webhooks range is 24 to 64).
const SECRET_BYTES: usize = 32;
/// The longest grace period of a rolled secret: one week.
const MAX_GRACE_SECONDS: u64 = 604_800;
const DEFAULT_GRACE_SECONDS: u64 = 86_400;

/// A webhook's settings as a caller gives them, each as typed. For [`create`] an unset field takes its
/// default (`url` and `event_types` must be set); for [`update`] an unset field stays as it is. An inner
/// `None` clears a field that may be empty.
#[derive(Clone, Debug, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// `standard`, `stripe` or `paypal`.
    pub format: Option<String>,
    /// `hmac-sha256`, `ed25519` or `rsa-sha256`.
    pub signing: Option<String>,
    pub api_version: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub rate_limit: Option<Option<u32>>,
    pub max_in_flight: Option<Option<u32>>,
    /// `none` or `fifo`.
    pub ordering: Option<String>,
    pub headers: Option<Vec<(String, String)>>,
    /// A CEL expression over the event object (`None` leaves it, `Some(None)` removes it).
    pub filter: Option<Option<String>>,
    /// OAuth2 client credentials for the receiver's token URL (`Some(None)` removes them).
    pub oauth2: Option<Option<OAuth2Input>>,
    /// A client certificate for mutual TLS (`Some(None)` removes it).
    pub tls: Option<Option<TlsInput>>,
    /// `ENABLED` or `DISABLED`; only an update changes it.
    pub status: Option<String>,
}

/// The client-credentials grant's settings as given; an update without `client_secret` keeps the current.
#[derive(Clone, Debug, Default)]
pub struct OAuth2Input {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

/// Mutual TLS as given; an update without `client_key_pem` keeps the current key.
#[derive(Clone, Debug, Default)]
pub struct TlsInput {
    pub client_certificate_pem: String,
    pub client_key_pem: Option<String>,
    pub ca_certificate_pem: Option<String>,
}

/// What a merchant verifies deliveries with: the shared secret, the public half of the key, or where the
/// installation's certificate is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerificationKey {
    /// `hmac-sha256`: the `whsec_` secret.
    Secret(String),
    /// `ed25519`: the `whpk_` public key.
    PublicKey(String),
    /// `rsa-sha256`: the installation's certificate (also sent as `PAYPAL-CERT-URL`).
    CertUrl(String),
}

/// A webhook as saved, with its new key when this call made one (create, or a change of algorithm).
pub struct Saved {
    pub webhook: Webhook,
    pub new_key: Option<VerificationKey>,
}

/// The current verification key and those still in their grace period after a roll.
pub struct Secrets {
    pub current: VerificationKey,
    pub previous: Vec<(VerificationKey, Timestamp)>,
}

/// The catalog's descriptions by event-type name.
pub async fn catalog_descriptions(services: &Services) -> ServiceResult<HashMap<String, String>> {
    let entries = services.store.list_event_types().await?;
    Ok(entries.into_iter().map(|e| (e.name.to_string(), e.description)).collect())
}

/// The account's webhook with this id; another account's is not found either.
pub async fn owned(services: &Services, account: &AccountId, id: &str) -> ServiceResult<Webhook> {
    let id = WebhookId::parse(id).map_err(|_| ServiceError::NotFound("webhook"))?;
    services.store.get_webhook(account, &id).await?.ok_or(ServiceError::NotFound("webhook"))
}

pub async fn create(services: &Services, account: &AccountId, input: WebhookInput) -> ServiceResult<Saved> {
    let missing =
        |name| Refusal::invalid(Field::named(name), "MISSING_REQUIRED_PARAMETER", format!("{name} is required"));
    let destination =
        parse_destination(input.url.as_deref().ok_or_else(|| missing("url"))?, services.rules.https_only)?;
    let catalog = catalog_descriptions(services).await?;
    let event_types =
        parse_subscriptions(input.event_types.as_deref().ok_or_else(|| missing("event_types"))?, &catalog)?;
    let format = input.format.as_deref().map(parse_format).transpose()?.unwrap_or(DeliveryFormat::Standard);
    let signing = input.signing.as_deref().map(parse_signing).transpose()?.unwrap_or(format.default_signing());
    check_combination(format, signing)?;
    let mut policy = parse_policy(&input, DeliveryPolicy::default())?;
    policy.url_secret = url_secret(services, &destination, None)?;
    endpoint_auth(services, &input, &mut policy)?;
    let url = destination.url;
    check_auth_fits(&url, &policy)?;
    let now = Timestamp::now();
    let webhook = Webhook {
        id: WebhookId::generate(),
        account_id: account.clone(),
        url,
        event_types,
        status: WebhookStatus::Enabled,
        format,
        signing,
        api_version: input.api_version.flatten().map(|v| parse_api_version(&v)).transpose()?,
        policy,
        description: input.description.flatten().map(parse_description).transpose()?,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    // An rsa-sha256 webhook keeps a key too, unused while it signs with the installation's, so that every
    // webhook has one and changing its algorithm is a key swap like any other.
    let key = new_key();
    // Shown before the write: making the installation's PayPal key can fail, and then nothing is created.
    let shown = verification_key(services, signing, key.clone()).await?;
    let sealed_secret = services.keyring.seal(&key);
    let limit = services.rules.webhooks_per_account;
    services.store.create_webhook(NewWebhook { webhook: webhook.clone(), sealed_secret, limit }).await?;
    Ok(Saved { webhook, new_key: Some(shown) })
}

pub async fn update(services: &Services, account: &AccountId, id: &str, input: WebhookInput) -> ServiceResult<Saved> {
    let current = owned(services, account, id).await?;
    let catalog = catalog_descriptions(services).await?;
    let destination = input.url.as_deref().map(|u| parse_destination(u, services.rules.https_only)).transpose()?;
    let mut changes = WebhookChanges {
        event_types: input.event_types.as_deref().map(|names| parse_subscriptions(names, &catalog)).transpose()?,
        status: input.status.as_deref().map(parse_status).transpose()?,
        description: input.description.clone().map(|d| d.map(parse_description).transpose()).transpose()?,
        format: input.format.as_deref().map(parse_format).transpose()?,
        signing: input.signing.as_deref().map(parse_signing).transpose()?,
        api_version: input.api_version.clone().map(|v| v.map(|v| parse_api_version(&v)).transpose()).transpose()?,
        ..WebhookChanges::default()
    };
    let mut policy = parse_policy(&input, current.policy.clone())?;
    if let Some(destination) = destination {
        let kept = current.policy.url_secret.as_ref().map(|secret| (secret, &current.url));
        policy.url_secret = url_secret(services, &destination, kept)?;
        changes.url = Some(destination.url);
    }
    endpoint_auth(services, &input, &mut policy)?;
    check_auth_fits(changes.url.as_ref().unwrap_or(&current.url), &policy)?;
    changes.policy = (policy != current.policy).then_some(policy);
    let format = changes.format.unwrap_or(current.format);
    // A new format that cannot use the current algorithm gets its own default unless one is asked for.
    let kept = if format.supports(current.signing) { current.signing } else { format.default_signing() };
    let signing = *changes.signing.get_or_insert(kept);
    check_combination(format, signing)?;
    let enabling = changes.status == Some(WebhookStatus::Enabled);
    // A key of the old kind cannot sign for a new algorithm, so a new key replaces it in the same write,
    // and the answer shows it (as the create answer does).
    let key = (signing != current.signing).then(new_key);
    let new_key = match &key {
        Some(key) => Some(verification_key(services, signing, key.clone()).await?),
        None => None,
    };
    changes.replace_secret = key.as_ref().map(|key| services.keyring.seal(key));
    let updated = services.store.update_webhook(account, &current.id, changes, Timestamp::now()).await?;
    let webhook = updated.ok_or(ServiceError::NotFound("webhook"))?;
    if enabling {
        services.publisher.wake_delivery();
    }
    Ok(Saved { webhook, new_key })
}

/// Deletes the webhook; its pending deliveries are cancelled.
pub async fn delete(services: &Services, account: &AccountId, id: &str) -> ServiceResult<()> {
    let id = WebhookId::parse(id).map_err(|_| ServiceError::NotFound("webhook"))?;
    match services.store.delete_webhook(account, &id, Timestamp::now()).await? {
        true => Ok(()),
        false => Err(ServiceError::NotFound("webhook")),
    }
}

pub async fn secrets(services: &Services, account: &AccountId, id: &str) -> ServiceResult<Secrets> {
    let webhook = owned(services, account, id).await?;
    live_secrets(services, &webhook).await
}

/// A new key signs from now on; the previous ones keep signing too until `grace_seconds` (default a day)
/// have passed.
pub async fn roll_secret(
    services: &Services,
    account: &AccountId,
    id: &str,
    grace_seconds: Option<u64>,
) -> ServiceResult<Secrets> {
    let grace = grace_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if grace > MAX_GRACE_SECONDS {
        let text = format!("expire_previous_in_seconds must be 0 to {MAX_GRACE_SECONDS}");
        return Err(
            Refusal::invalid(Field::named("expire_previous_in_seconds"), "INVALID_PARAMETER_VALUE", text).into()
        );
    }
    let webhook = owned(services, account, id).await?;
    if webhook.signing == SigningAlgorithm::RsaSha256 {
        let message = "this webhook is signed with the installation's certificate; it has no secret of its own to roll";
        let description = "switch the webhook to hmac-sha256 or ed25519 first";
        return Err(Refusal::invalid(Field::whole(), "NO_WEBHOOK_SECRET", description)
            .named("UNPROCESSABLE_ENTITY", message)
            .into());
    }
    let now = Timestamp::now();
    let previous_expire_at = now.plus(std::time::Duration::from_secs(grace));
    let sealed = services.keyring.seal(&new_key());
    services.store.roll_webhook_secret(&webhook.id, sealed, now, previous_expire_at).await?;
    live_secrets(services, &webhook).await
}

async fn live_secrets(services: &Services, webhook: &Webhook) -> ServiceResult<Secrets> {
    let stored = services.store.webhook_secrets(&webhook.id, Timestamp::now()).await?;
    let open = |sealed: &[u8]| {
        services
            .keyring
            .open(sealed)
            .map_err(|e| InternalError(format!("a secret of {} cannot be opened: {e}", webhook.id)))
    };
    let Some((current, older)) = stored.split_first() else {
        return Err(InternalError(format!("webhook {} has no secret", webhook.id)).into());
    };
    let mut previous = Vec::with_capacity(older.len());
    for secret in older {
        let key = verification_key(services, webhook.signing, open(&secret.sealed)?).await?;
        previous.push((key, secret.expires_at.unwrap_or(secret.created_at)));
    }
    let current = verification_key(services, webhook.signing, open(&current.sealed)?).await?;
    Ok(Secrets { current, previous })
}

/// What a merchant is shown of a key: the shared secret, the public half, or (for the installation's RSA
/// key) where its certificate is.
async fn verification_key(
    services: &Services,
    signing: SigningAlgorithm,
    key: Vec<u8>,
) -> ServiceResult<VerificationKey> {
    Ok(match signing {
        SigningAlgorithm::HmacSha256 => {
            let secret = SigningSecret::from_key(key).map_err(|e| InternalError(format!("a signing key: {e}")))?;
            VerificationKey::Secret(secret.to_whsec())
        }
        SigningAlgorithm::Ed25519 => {
            let seed: [u8; 32] = key.try_into().map_err(|_| InternalError::new("an Ed25519 seed is not 32 bytes"))?;
            VerificationKey::PublicKey(AsymmetricKey::from_seed(seed).public_key())
        }
        SigningAlgorithm::RsaSha256 => {
            let identity = services.paypal.get_or_create().await?;
            VerificationKey::CertUrl(identity.cert_url().to_owned())
        }
    })
}

/// New key material: an HMAC key or an Ed25519 seed, both 32 random bytes.
fn new_key() -> Vec<u8> {
    rand::random::<[u8; SECRET_BYTES]>().to_vec()
}

/// An HTTP URL to send one simulated event to; an installation that delivers over HTTPS only refuses
/// `http://` up front.
pub fn parse_url(text: &str, https_only: bool) -> Result<WebhookUrl, Refusal> {
    let url = WebhookUrl::parse(text).map_err(|e| invalid_url(text, e.to_string()))?;
    if https_only && !url.as_str().starts_with("https://") {
        return Err(invalid_url(text, "this installation delivers to https:// URLs only".into()));
    }
    Ok(url)
}

/// A webhook's destination: an HTTP URL or a broker's, with the broker's secret taken out. Under HTTPS
/// only, the plain broker protocols are refused as `http://` is.
pub fn parse_destination(text: &str, https_only: bool) -> Result<ParsedUrl, Refusal> {
    let parsed = WebhookUrl::parse_destination(text).map_err(|e| invalid_url(text, e.to_string()))?;
    if https_only && !parsed.url.as_str().starts_with("https://") {
        return Err(invalid_url(text, "this installation delivers to https:// URLs only".into()));
    }
    Ok(parsed)
}

/// The refusal of a URL, which echoes it with any credentials hidden.
fn invalid_url(text: &str, why: String) -> Refusal {
    let shown = hide_userinfo(text).unwrap_or_else(|| text.to_owned());
    Refusal::invalid(Field::named("url"), "INVALID_URL", why).with_value(shown)
}

/// The sealed secret a webhook keeps for its URL: the new URL's, or the current one when the URL was sent
/// back as shown (with `***`) for the same broker and user — never for another host, which could be
/// anyone's. A create has none to keep.
fn url_secret(
    services: &Services,
    destination: &ParsedUrl,
    current: Option<(&Sealed, &WebhookUrl)>,
) -> Result<Option<Sealed>, Refusal> {
    if destination.keeps_secret {
        let same = current.filter(|(_, url)| url.same_endpoint(&destination.url)).map(|(secret, _)| secret.clone());
        let hidden = WebhookUrlError::HiddenSecret.to_string();
        return same.map(Some).ok_or_else(|| invalid_url(destination.url.as_str(), hidden));
    }
    Ok(destination.secret.as_ref().map(|secret| seal_text(services, secret)))
}

/// Sets the policy's OAuth2 and TLS settings from the input, sealing their secrets; a secret left out
/// keeps the policy's current one.
fn endpoint_auth(services: &Services, input: &WebhookInput, policy: &mut DeliveryPolicy) -> Result<(), Refusal> {
    if let Some(oauth2) = &input.oauth2 {
        policy.oauth2 = match oauth2 {
            None => None,
            Some(given) => Some(oauth2_client(services, given, policy.oauth2.as_ref())?),
        };
    }
    if let Some(tls) = &input.tls {
        policy.tls = match tls {
            None => None,
            Some(given) => Some(client_tls(services, given, policy.tls.as_ref())?),
        };
    }
    Ok(())
}

fn oauth2_client(
    services: &Services,
    given: &OAuth2Input,
    current: Option<&OAuth2Client>,
) -> Result<OAuth2Client, Refusal> {
    let invalid = |within: &str, why: String| {
        Refusal::invalid(Field { name: "oauth2", within: within.to_owned() }, "INVALID_OAUTH2", why)
    };
    let token_url = WebhookUrl::parse(&given.token_url).map_err(|e| invalid("/token_url", e.to_string()))?;
    if services.rules.https_only && !token_url.as_str().starts_with("https://") {
        return Err(invalid("/token_url", "this installation delivers to https:// URLs only".into()));
    }
    if given.client_id.is_empty() || given.client_id.len() > 256 {
        return Err(invalid("/client_id", "client_id is 1 to 256 characters".into()));
    }
    if given.scope.as_ref().is_some_and(|scope| scope.len() > 1024) {
        return Err(invalid("/scope", "scope is at most 1024 characters".into()));
    }
    let client_secret = match &given.client_secret {
        Some(secret) if secret.is_empty() || secret.len() > 1024 => {
            return Err(invalid("/client_secret", "client_secret is 1 to 1024 characters".into()));
        }
        Some(secret) => seal_text(services, secret),
        // Kept only for the same token URL: the secret never goes anywhere it did not go.
        None => current
            .filter(|client| client.token_url == token_url.as_str())
            .map(|client| client.client_secret.clone())
            .ok_or_else(|| {
                let field = Field { name: "oauth2", within: "/client_secret".into() };
                let why = "client_secret is required (and again when the token URL changes)";
                Refusal::invalid(field, "MISSING_REQUIRED_PARAMETER", why)
            })?,
    };
    Ok(OAuth2Client {
        token_url: token_url.as_str().to_owned(),
        client_id: given.client_id.clone(),
        scope: given.scope.clone().filter(|scope| !scope.is_empty()),
        client_secret,
    })
}

fn client_tls(services: &Services, given: &TlsInput, current: Option<&ClientTls>) -> Result<ClientTls, Refusal> {
    let invalid = |why: String| Refusal::invalid(Field::named("tls"), "INVALID_TLS", why);
    let kept_key = match (&given.client_key_pem, current) {
        (Some(_), _) => None,
        (None, Some(current)) => Some(open_text(services, &current.client_key).map_err(invalid)?),
        (None, None) => {
            let field = Field { name: "tls", within: "/client_key_pem".into() };
            return Err(Refusal::invalid(field, "MISSING_REQUIRED_PARAMETER", "client_key_pem is required"));
        }
    };
    let key = given.client_key_pem.as_deref().or(kept_key.as_deref()).unwrap_or_default();
    let ca = given.ca_certificate_pem.as_deref().filter(|ca| !ca.trim().is_empty());
    crate::deliver::endpoint_auth::check_tls(&given.client_certificate_pem, key, ca).map_err(invalid)?;
    Ok(ClientTls {
        client_certificate_pem: given.client_certificate_pem.clone(),
        ca_certificate_pem: ca.map(str::to_owned),
        client_key: seal_text(services, key),
    })
}

/// OAuth2 and client certificates are for HTTP receivers; a broker URL carries its own credentials.
fn check_auth_fits(url: &WebhookUrl, policy: &DeliveryPolicy) -> Result<(), Refusal> {
    if url.kind() == DestinationKind::Http {
        return Ok(());
    }
    let why = "only an http(s) destination takes oauth2 or tls; a broker URL carries its own credentials";
    match (&policy.oauth2, &policy.tls) {
        (Some(_), _) => Err(Refusal::invalid(Field::named("oauth2"), "INVALID_PARAMETER_VALUE", why)),
        (_, Some(_)) => Err(Refusal::invalid(Field::named("tls"), "INVALID_PARAMETER_VALUE", why)),
        _ => Ok(()),
    }
}

fn open_text(services: &Services, sealed: &Sealed) -> Result<String, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&sealed.0).map_err(|e| e.to_string())?;
    let opened = services.keyring.open(&bytes).map_err(|e| e.to_string())?;
    String::from_utf8(opened).map_err(|e| e.to_string())
}

fn seal_text(services: &Services, secret: &str) -> Sealed {
    use base64::Engine as _;
    Sealed(base64::engine::general_purpose::STANDARD.encode(services.keyring.seal(secret.as_bytes())))
}

/// The subscription list: known catalog names or `*`, at least one, duplicates folded.
pub fn parse_subscriptions(names: &[String], catalog: &HashMap<String, String>) -> Result<Vec<Subscription>, Refusal> {
    if names.is_empty() {
        let text = "subscribe to at least one event type, or \"*\"";
        return Err(Refusal::invalid(Field::named("event_types"), "MISSING_EVENT_TYPES", text));
    }
    let mut unique = BTreeSet::new();
    for (index, name) in names.iter().enumerate() {
        let field = Field::item("event_types", index, "/name");
        let subscription = Subscription::parse(name)
            .map_err(|e| Refusal::invalid(field.clone(), "INVALID_EVENT_TYPE", e.to_string()).with_value(name))?;
        if let Subscription::One(known) = &subscription
            && !catalog.contains_key(known.as_str())
        {
            let message = format!("the event type \"{known}\" is not in the catalog");
            return Err(Refusal::invalid(field, "UNKNOWN_EVENT_TYPE", "see the list of available events")
                .named("UNKNOWN_EVENT_TYPE", message)
                .with_value(known.as_str()));
        }
        unique.insert(subscription);
    }
    Ok(unique.into_iter().collect())
}

fn parse_format(text: &str) -> Result<DeliveryFormat, Refusal> {
    DeliveryFormat::parse(text).ok_or_else(|| {
        let text_ok = "the formats are \"standard\", \"stripe\" and \"paypal\"";
        Refusal::invalid(Field::named("format"), "UNSUPPORTED_FORMAT", text_ok).with_value(text)
    })
}

fn parse_signing(text: &str) -> Result<SigningAlgorithm, Refusal> {
    SigningAlgorithm::parse(text).ok_or_else(|| {
        let text_ok = "signing is \"hmac-sha256\", \"ed25519\" or \"rsa-sha256\"";
        Refusal::invalid(Field::named("signing"), "UNSUPPORTED_SIGNING", text_ok).with_value(text)
    })
}

fn check_combination(format: DeliveryFormat, signing: SigningAlgorithm) -> Result<(), Refusal> {
    if format.supports(signing) {
        return Ok(());
    }
    let text = match format {
        DeliveryFormat::Standard => "the standard format is signed with hmac-sha256 or ed25519",
        DeliveryFormat::Stripe => "the stripe format is signed with hmac-sha256 only",
        DeliveryFormat::Paypal => "the paypal format is signed with rsa-sha256 (the installation's key) only",
    };
    Err(Refusal::invalid(Field::named("signing"), "UNSUPPORTED_SIGNING", text).with_value(signing.as_str()))
}

fn parse_status(text: &str) -> Result<WebhookStatus, Refusal> {
    WebhookStatus::parse(text).ok_or_else(|| {
        let text_ok = "the value must be \"ENABLED\" or \"DISABLED\"";
        Refusal::invalid(Field::named("status"), "INVALID_PARAMETER_SYNTAX", text_ok).with_value(text)
    })
}

fn parse_description(text: String) -> Result<String, Refusal> {
    if text.chars().count() <= MAX_DESCRIPTION_LEN {
        return Ok(text);
    }
    let description = format!("the description is longer than {MAX_DESCRIPTION_LEN} characters");
    Err(Refusal::invalid(Field::named("description"), "DESCRIPTION_TOO_LONG", description))
}

fn parse_api_version(text: &str) -> Result<String, Refusal> {
    let valid = !text.is_empty()
        && text.len() <= 32
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        return Ok(text.to_owned());
    }
    let description = "an API version such as 2024-06-20";
    Err(Refusal::invalid(Field::named("api_version"), "INVALID_API_VERSION", description).with_value(text))
}

/// The delivery rules the input sets, over `base` (the defaults, or the webhook's current rules).
fn parse_policy(input: &WebhookInput, base: DeliveryPolicy) -> Result<DeliveryPolicy, Refusal> {
    let mut policy = base;
    if let Some(rate) = input.rate_limit {
        policy.rate_limit = rate.map(|n| in_range(n, &RATE_LIMIT_RANGE, "rate_limit")).transpose()?;
    }
    if let Some(cap) = input.max_in_flight {
        policy.max_in_flight = cap.map(|n| in_range(n, &MAX_IN_FLIGHT_RANGE, "max_in_flight")).transpose()?;
    }
    if let Some(ordering) = &input.ordering {
        policy.ordering = DeliveryOrder::parse(ordering).ok_or_else(|| {
            Refusal::invalid(Field::named("ordering"), "INVALID_PARAMETER_VALUE", "ordering is \"none\" or \"fifo\"")
                .with_value(ordering)
        })?;
    }
    if let Some(headers) = &input.headers {
        policy.headers = custom_headers(headers.clone())?;
    }
    if let Some(filter) = &input.filter {
        policy.filter = filter.as_deref().filter(|f| !f.trim().is_empty()).map(checked_filter).transpose()?;
    }
    Ok(policy)
}

fn in_range(value: u32, range: &std::ops::RangeInclusive<u32>, field: &'static str) -> Result<u32, Refusal> {
    if range.contains(&value) {
        return Ok(value);
    }
    let text = format!("a whole number from {} to {}, or null", range.start(), range.end());
    Err(Refusal::invalid(Field::named(field), "INVALID_PARAMETER_VALUE", text).with_value(value.to_string()))
}

/// A filter that compiles within its limits, kept as written (trimmed).
fn checked_filter(source: &str) -> Result<String, Refusal> {
    let filter = crate::filter::Filter::compile(source).map_err(|error| {
        let code = match error {
            crate::filter::FilterError::TooComplex(_) | crate::filter::FilterError::TooLong => "FILTER_TOO_COMPLEX",
            _ => "INVALID_FILTER",
        };
        Refusal::invalid(Field::named("filter"), code, error.to_string()).with_value(source)
    })?;
    Ok(filter.source().to_owned())
}

/// Checks custom headers and keeps them sorted by name, so that what is stored does not depend on the
/// order they were given in.
fn custom_headers(mut headers: Vec<(String, String)>) -> Result<Vec<(String, String)>, Refusal> {
    headers.sort();
    check_headers(&headers)
        .map_err(|refusal| Refusal::invalid(Field::named("headers"), "INVALID_HEADER", refusal.to_string()))?;
    Ok(headers)
}
