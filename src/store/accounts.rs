//! Merchant accounts, their two environments, their API keys and OAuth access tokens.
//!
//! An account is the live environment; its test environment is a second row of its own (with its own id,
//! never shown), so that everything kept per account — webhooks, events, listeners, request logs, limits —
//! is kept per environment without a mode in every query. A key opens one environment.

use async_trait::async_trait;

use super::*;
use crate::domain::model::*;
use crate::domain::*;

/// A new merchant account with its test environment and the first key of each.
pub struct NewAccount {
    pub account: Account,
    pub test_environment: AccountId,
    pub keys: Vec<NewApiKey>,
}

/// A new API key. The client secret itself is never stored, only its keyed hash.
pub struct NewApiKey {
    pub key: ApiKey,
    pub secret_hash: [u8; 32],
}

impl NewApiKey {
    /// An environment's first key: named "Default", with every right.
    pub fn first(
        owner: &AccountId,
        environment: &AccountId,
        mode: Mode,
        client_id: String,
        secret_hash: [u8; 32],
        now: Timestamp,
    ) -> Self {
        let key = ApiKey {
            id: ApiKeyId::generate(),
            owner_id: owner.clone(),
            environment_id: environment.clone(),
            name: "Default".into(),
            mode,
            scope: KeyScope::Full,
            client_id,
            created_at: now,
            last_used_at: None,
            previous_expires_at: None,
        };
        Self { key, secret_hash }
    }
}

/// What authenticating with a client id needs: the key and the hashes its secrets may have.
pub struct KeyCredentials {
    pub key: ApiKey,
    pub secret_hash: [u8; 32],
    /// The secret before the last roll, while it still works (`key.previous_expires_at`).
    pub previous_hash: Option<[u8; 32]>,
}

/// A new OAuth access token of a key; only its keyed hash is stored.
pub struct NewToken {
    pub token_hash: [u8; 32],
    pub key_id: ApiKeyId,
    pub account_id: AccountId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A key's new secret; the one before keeps working until `previous_expires_at` (not at all when that is
/// now), and so do the key's access tokens, which end then at the latest.
pub struct KeyRoll {
    pub secret_hash: [u8; 32],
    pub previous_expires_at: Timestamp,
    pub now: Timestamp,
}

/// Merchant accounts, their environments, API keys and OAuth access tokens.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The account, its test environment and their first keys, together.
    async fn create_account(&self, account: NewAccount) -> StoreResult<()>;

    /// Accounts as the operator sees them (test environments are not among them).
    async fn list_accounts(&self, page: PageRequest) -> StoreResult<Vec<Account>>;

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<Account>>;

    /// The environment of an account for `mode`: the account itself for live; for test, its test
    /// environment, made now if the account was created before environments existed. `None` when there is
    /// no such account.
    async fn environment(&self, account: &AccountId, mode: Mode) -> StoreResult<Option<AccountId>>;

    async fn create_api_key(&self, key: NewApiKey) -> StoreResult<()>;

    /// The account's keys of both modes that are not revoked, oldest first.
    async fn list_api_keys(&self, owner: &AccountId) -> StoreResult<Vec<ApiKey>>;

    async fn get_api_key(&self, owner: &AccountId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;

    /// Revokes the key and every access token of it. False when there is no such key (or it was revoked).
    async fn revoke_api_key(&self, owner: &AccountId, id: &ApiKeyId, now: Timestamp) -> StoreResult<bool>;

    /// Gives the key a new secret. False when there is no such key.
    async fn roll_api_key(&self, owner: &AccountId, id: &ApiKeyId, roll: KeyRoll) -> StoreResult<bool>;

    /// Notes when keys were last used (a later time than the one kept only).
    async fn touch_api_keys(&self, used: Vec<(ApiKeyId, Timestamp)>) -> StoreResult<()>;

    /// The key with this client id, unless it is revoked.
    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<KeyCredentials>>;

    /// Replaces the secret of the account's first live key at once and revokes its access tokens (the
    /// operator's way back in). False when the account has no live key left.
    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool>;

    async fn create_token(&self, token: NewToken) -> StoreResult<()>;

    /// The key of a token that is neither expired nor revoked at `now`, and whose key is not revoked.
    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<ApiKey>>;

    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool>;
}
