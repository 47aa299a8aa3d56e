//! Merchant accounts, their client credentials and OAuth access tokens.

use async_trait::async_trait;

use super::*;
use crate::domain::model::*;
use crate::domain::*;

/// A new merchant account. The client secret itself is never stored, only its keyed hash.
pub struct NewAccount {
    pub account: Account,
    pub secret_hash: [u8; 32],
}

/// What authenticating a merchant needs.
pub struct AccountCredentials {
    pub account_id: AccountId,
    pub secret_hash: [u8; 32],
}

/// A new OAuth access token; only its keyed hash is stored.
pub struct NewToken {
    pub token_hash: [u8; 32],
    pub account_id: AccountId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Merchant accounts, their client credentials and OAuth access tokens.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_account(&self, account: NewAccount) -> StoreResult<()>;

    async fn list_accounts(&self, page: PageRequest) -> StoreResult<Vec<Account>>;

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<Account>>;

    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<AccountCredentials>>;

    /// Replaces the client secret's hash and revokes every access token of the account.
    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool>;

    async fn create_token(&self, token: NewToken) -> StoreResult<()>;

    /// The account of a token that is neither expired nor revoked at `now`.
    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>>;

    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool>;
}
