//! PostgreSQL: merchant accounts, their client credentials and OAuth access tokens.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::sql::{Params, all, execute, query, query_opt};
use super::{PostgresStore, pg, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::columns::*;
use crate::store::*;

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_account(&self, account: NewAccount) -> StoreResult<()> {
        insert_account(&self.client().await?, &account).await
    }

    async fn list_accounts(&self, page: PageRequest) -> StoreResult<Vec<Account>> {
        list_accounts(&self.client().await?, &page).await
    }

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        get_account(&self.client().await?, id).await
    }

    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<AccountCredentials>> {
        find_credentials(&self.client().await?, client_id).await
    }

    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let changed = roll_client_secret(&transaction, id, &secret_hash, now).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(changed)
    }

    async fn create_token(&self, token: NewToken) -> StoreResult<()> {
        create_token(&self.client().await?, &token).await
    }

    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>> {
        find_token(&self.client().await?, token_hash, now).await
    }

    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
        revoke_token(&self.client().await?, token_hash, now).await
    }
}

pub async fn insert_account(c: &impl GenericClient, new: &NewAccount) -> StoreResult<()> {
    let a = &new.account;
    let sql = "INSERT INTO accounts (id, name, client_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)";
    execute(c, sql, &[&a.id.as_str(), &a.name, &a.client_id, &new.secret_hash.as_slice(), &a.created_at.as_millis()])
        .await?;
    Ok(())
}

pub async fn list_accounts(c: &impl GenericClient, page: &PageRequest) -> StoreResult<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id > $1 ORDER BY id LIMIT $2");
    let after = page.after.clone().unwrap_or_default();
    all(query(c, &sql, &[&after, &i64::from(page.limit)]).await?, rows::account)
}

pub async fn get_account(c: &impl GenericClient, id: &AccountId) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
    query_opt(c, &sql, &[&id.as_str()]).await?.as_ref().map(rows::account).transpose()
}

pub async fn find_credentials(c: &impl GenericClient, client_id: &str) -> StoreResult<Option<AccountCredentials>> {
    let Some(row) = query_opt(c, "SELECT id, secret_hash FROM accounts WHERE client_id = $1", &[&client_id]).await?
    else {
        return Ok(None);
    };
    let hash: Vec<u8> = row.get(1);
    let secret_hash = hash.try_into().map_err(|_| StoreError::Corrupt("secret hash length".into()))?;
    Ok(Some(AccountCredentials { account_id: AccountId::from_trusted(row.get(0)), secret_hash }))
}

pub async fn roll_client_secret(
    c: &impl GenericClient,
    id: &AccountId,
    hash: &[u8; 32],
    now: Timestamp,
) -> StoreResult<bool> {
    let changed =
        execute(c, "UPDATE accounts SET secret_hash = $2 WHERE id = $1", &[&id.as_str(), &hash.as_slice()]).await?;
    let sql = "UPDATE oauth_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL";
    execute(c, sql, &[&id.as_str(), &now.as_millis()]).await?;
    Ok(changed == 1)
}

pub async fn create_token(c: &impl GenericClient, token: &NewToken) -> StoreResult<()> {
    let sql = "INSERT INTO oauth_tokens (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    let params: Params = &[
        &token.token_hash.as_slice(),
        &token.account_id.as_str(),
        &token.created_at.as_millis(),
        &token.expires_at.as_millis(),
    ];
    execute(c, sql, params).await?;
    Ok(())
}

pub async fn find_token(c: &impl GenericClient, hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>> {
    let sql = "SELECT account_id FROM oauth_tokens WHERE token_hash = $1 AND expires_at > $2 AND revoked_at IS NULL";
    let found = query_opt(c, sql, &[&hash.as_slice(), &now.as_millis()]).await?;
    Ok(found.map(|row| AccountId::from_trusted(row.get(0))))
}

pub async fn revoke_token(c: &impl GenericClient, hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
    let sql = "UPDATE oauth_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL";
    Ok(execute(c, sql, &[&hash.as_slice(), &now.as_millis()]).await? == 1)
}
