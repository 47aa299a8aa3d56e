//! A merchant's API keys: several per mode, each with a name and a scope, shown once, rolled with a
//! grace period, revoked with their access tokens.
//!
//! The caller is a key itself. A live key manages the keys of both modes; a test key sees and makes
//! test keys only, so that test credentials handed to a tool never lead to live ones.

use std::time::Duration;

use super::{Field, Refusal, ServiceError, ServiceResult, Services};
use crate::domain::{AccountId, ApiKey, ApiKeyId, KeyScope, Mode, Timestamp};
use crate::keyring::random_token;
use crate::store::{KeyRoll, NewApiKey};

pub const MAX_NAME_LEN: usize = 100;
/// The longest a rolled-away secret may keep working: a week, as for webhook secrets.
pub const MAX_GRACE_SECONDS: u64 = 604_800;

/// A key with its client secret, shown this once.
pub struct WithSecret {
    pub key: ApiKey,
    pub client_secret: String,
}

/// What a new key should be.
pub struct KeyInput {
    pub name: String,
    /// The caller's mode when not given.
    pub mode: Option<Mode>,
    pub scope: Option<KeyScope>,
}

/// A client secret: long and random, so a keyed hash of it is as strong as a slow password hash.
pub fn new_client_secret() -> String {
    format!("hsk_{}", random_token(32))
}

/// A new key (not stored yet) and its secret. Test keys' client ids say so, as Stripe's `sk_test_` do.
pub fn make(
    services: &Services,
    owner: &AccountId,
    environment: &AccountId,
    name: &str,
    mode: Mode,
    scope: KeyScope,
    now: Timestamp,
) -> (NewApiKey, String) {
    let secret = new_client_secret();
    let prefix = if mode.is_live() { "hcl_" } else { "hcl_test_" };
    let key = ApiKey {
        id: ApiKeyId::generate(),
        owner_id: owner.clone(),
        environment_id: environment.clone(),
        name: name.to_owned(),
        mode,
        scope,
        client_id: format!("{prefix}{}", random_token(18)),
        created_at: now,
        last_used_at: None,
        previous_expires_at: None,
    };
    let secret_hash = services.keyring.hash_credential(&secret);
    (NewApiKey { key, secret_hash }, secret)
}

/// The keys the caller may see: every live and test key for a live caller, test keys for a test one.
pub async fn list(services: &Services, caller: &ApiKey) -> ServiceResult<Vec<ApiKey>> {
    let keys = services.store.list_api_keys(&caller.owner_id).await?;
    Ok(keys.into_iter().filter(|key| visible(caller, key)).collect())
}

fn visible(caller: &ApiKey, key: &ApiKey) -> bool {
    caller.mode.is_live() || key.mode == caller.mode
}

/// One key the caller may see.
pub async fn existing(services: &Services, caller: &ApiKey, id: &str) -> ServiceResult<ApiKey> {
    let id = ApiKeyId::parse(id).map_err(|_| ServiceError::NotFound("API key"))?;
    let found = services.store.get_api_key(&caller.owner_id, &id).await?;
    found.filter(|key| visible(caller, key)).ok_or(ServiceError::NotFound("API key"))
}

/// A new key named `input.name`, of the caller's mode unless another is asked for and allowed.
pub async fn create(services: &Services, caller: &ApiKey, input: KeyInput) -> ServiceResult<WithSecret> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        let text = format!("the name must be 1 to {MAX_NAME_LEN} characters");
        return Err(Refusal::invalid(Field::named("name"), "INVALID_NAME", text).into());
    }
    let mode = input.mode.unwrap_or(caller.mode);
    if !caller.mode.is_live() && mode.is_live() {
        return Err(ServiceError::NotAuthorized("a test key cannot make live keys"));
    }
    let environment =
        services.store.environment(&caller.owner_id, mode).await?.ok_or(ServiceError::NotFound("account"))?;
    let scope = input.scope.unwrap_or(KeyScope::Full);
    let (new, client_secret) = make(services, &caller.owner_id, &environment, name, mode, scope, Timestamp::now());
    let key = new.key.clone();
    services.store.create_api_key(new).await?;
    Ok(WithSecret { key, client_secret })
}

/// Revokes a key and its access tokens at once.
pub async fn revoke(services: &Services, caller: &ApiKey, id: &str) -> ServiceResult<()> {
    let key = existing(services, caller, id).await?;
    match services.store.revoke_api_key(&caller.owner_id, &key.id, Timestamp::now()).await? {
        true => Ok(()),
        false => Err(ServiceError::NotFound("API key")),
    }
}

/// A new secret for a key; the one before (and the key's access tokens) keep working for
/// `grace_seconds` (default none: a key is usually rolled because its secret got out).
pub async fn roll(
    services: &Services,
    caller: &ApiKey,
    id: &str,
    grace_seconds: Option<u64>,
) -> ServiceResult<WithSecret> {
    let grace = grace_seconds.unwrap_or(0);
    if grace > MAX_GRACE_SECONDS {
        let text = format!("expire_previous_in_seconds must be 0 to {MAX_GRACE_SECONDS}");
        return Err(
            Refusal::invalid(Field::named("expire_previous_in_seconds"), "INVALID_PARAMETER_VALUE", text).into()
        );
    }
    let key = existing(services, caller, id).await?;
    let client_secret = new_client_secret();
    let now = Timestamp::now();
    let previous_expires_at = now.plus(Duration::from_secs(grace));
    let roll = KeyRoll { secret_hash: services.keyring.hash_credential(&client_secret), previous_expires_at, now };
    if !services.store.roll_api_key(&caller.owner_id, &key.id, roll).await? {
        return Err(ServiceError::NotFound("API key"));
    }
    let key = ApiKey { previous_expires_at: (grace > 0).then_some(previous_expires_at), ..key };
    Ok(WithSecret { key, client_secret })
}
