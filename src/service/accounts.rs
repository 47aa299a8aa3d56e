//! The operator's merchant accounts: create one, and roll its credentials.

use super::{Field, Refusal, ServiceError, ServiceResult, Services};
use crate::domain::model::Account;
use crate::domain::{AccountId, Timestamp};
use crate::keyring::random_token;
use crate::store::NewAccount;

pub const MAX_NAME_LEN: usize = 200;

/// An account with the client secret made for it, shown this once: only its keyed hash is stored.
pub struct WithSecret {
    pub account: Account,
    pub client_secret: String,
}

/// A new merchant account named `name` (trimmed; 1 to 200 characters).
pub async fn create(services: &Services, name: &str) -> ServiceResult<WithSecret> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        let text = format!("the name must be 1 to {MAX_NAME_LEN} characters");
        return Err(Refusal::invalid(Field::named("name"), "INVALID_NAME", text).into());
    }
    let client_secret = new_client_secret();
    let account = Account {
        id: AccountId::generate(),
        name: name.to_owned(),
        client_id: format!("hcl_{}", random_token(18)),
        created_at: Timestamp::now(),
    };
    let secret_hash = services.keyring.hash_credential(&client_secret);
    services.store.create_account(NewAccount { account: account.clone(), secret_hash }).await?;
    Ok(WithSecret { account, client_secret })
}

/// The account with this id.
pub async fn existing(services: &Services, id: &str) -> ServiceResult<Account> {
    let id = AccountId::parse(id).map_err(|_| ServiceError::NotFound("account"))?;
    services.store.get_account(&id).await?.ok_or(ServiceError::NotFound("account"))
}

/// A new client secret for the account; the old one and every access token stop working at once.
pub async fn roll_credentials(services: &Services, id: &str) -> ServiceResult<WithSecret> {
    let account = existing(services, id).await?;
    let client_secret = new_client_secret();
    let hash = services.keyring.hash_credential(&client_secret);
    if !services.store.roll_client_secret(&account.id, hash, Timestamp::now()).await? {
        return Err(ServiceError::NotFound("account"));
    }
    Ok(WithSecret { account, client_secret })
}

/// A client secret: long and random, so a keyed hash of it is as strong as a slow password hash.
fn new_client_secret() -> String {
    format!("hsk_{}", random_token(32))
}
