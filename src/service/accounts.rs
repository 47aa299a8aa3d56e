//! The operator's merchant accounts: create one with its two environments, and roll its credentials.

use super::api_keys::{self, WithSecret as KeyWithSecret};
use super::{Field, Refusal, ServiceError, ServiceResult, Services};
use crate::domain::model::Account;
use crate::domain::{AccountId, KeyScope, Mode, Timestamp};
use crate::store::NewAccount;

pub const MAX_NAME_LEN: usize = 200;

/// A new account with the first key of each mode, their secrets shown this once: only keyed hashes of
/// them are stored.
pub struct Created {
    pub account: Account,
    pub live: KeyWithSecret,
    pub test: KeyWithSecret,
}

/// An account with the secret just made for its first live key.
pub struct WithSecret {
    pub account: Account,
    pub client_secret: String,
}

/// A new merchant account named `name` (trimmed; 1 to 200 characters), with its test environment.
pub async fn create(services: &Services, name: &str) -> ServiceResult<Created> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        let text = format!("the name must be 1 to {MAX_NAME_LEN} characters");
        return Err(Refusal::invalid(Field::named("name"), "INVALID_NAME", text).into());
    }
    let now = Timestamp::now();
    let id = AccountId::generate();
    let test_environment = AccountId::generate();
    let live = api_keys::make(services, &id, &id, "Default", Mode::Live, KeyScope::Full, now);
    let test = api_keys::make(services, &id, &test_environment, "Default", Mode::Test, KeyScope::Full, now);
    let account = Account { id, name: name.to_owned(), client_id: live.0.key.client_id.clone(), created_at: now };
    let keys = vec![live.0, test.0];
    let (live_key, test_key) = (keys[0].key.clone(), keys[1].key.clone());
    services.store.create_account(NewAccount { account: account.clone(), test_environment, keys }).await?;
    Ok(Created {
        account,
        live: KeyWithSecret { key: live_key, client_secret: live.1 },
        test: KeyWithSecret { key: test_key, client_secret: test.1 },
    })
}

/// The account with this id.
pub async fn existing(services: &Services, id: &str) -> ServiceResult<Account> {
    let id = AccountId::parse(id).map_err(|_| ServiceError::NotFound("account"))?;
    services.store.get_account(&id).await?.ok_or(ServiceError::NotFound("account"))
}

/// A new secret for the account's first live key: the old one and its access tokens stop working at
/// once. An account whose merchant revoked every live key gets a new one.
pub async fn roll_credentials(services: &Services, id: &str) -> ServiceResult<WithSecret> {
    let account = existing(services, id).await?;
    let client_secret = api_keys::new_client_secret();
    let hash = services.keyring.hash_credential(&client_secret);
    let now = Timestamp::now();
    if services.store.roll_client_secret(&account.id, hash, now).await? {
        return Ok(WithSecret { account, client_secret });
    }
    let (key, client_secret) =
        api_keys::make(services, &account.id, &account.id, "Default", Mode::Live, KeyScope::Full, now);
    let client_id = key.key.client_id.clone();
    services.store.create_api_key(key).await?;
    Ok(WithSecret { account: Account { client_id, ..account }, client_secret })
}
