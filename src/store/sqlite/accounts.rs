//! SQLite: merchant accounts, their client credentials and OAuth access tokens.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, backend, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::*;

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, account: NewAccount) -> StoreResult<()> {
        self.writer.write(move |conn| insert_account(conn, &account)).await
    }

    async fn list_accounts(&self, page: PageRequest) -> StoreResult<Vec<Account>> {
        self.read(|conn| list_accounts(conn, &page))
    }

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        self.read(|conn| get_account(conn, id))
    }

    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<AccountCredentials>> {
        self.read(|conn| find_credentials(conn, client_id))
    }

    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool> {
        let id = id.clone();
        self.writer.write(move |conn| roll_client_secret(conn, &id, &secret_hash, now)).await
    }

    async fn create_token(&self, token: NewToken) -> StoreResult<()> {
        self.writer.write(move |conn| create_token(conn, &token)).await
    }

    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>> {
        self.read(|conn| find_token(conn, token_hash, now))
    }

    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
        let hash = *token_hash;
        self.writer.write(move |conn| revoke_token(conn, &hash, now)).await
    }
}

pub fn list_accounts(conn: &Connection, page: &PageRequest) -> StoreResult<Vec<Account>> {
    let sql = format!("SELECT {} FROM accounts WHERE id > ?1 ORDER BY id LIMIT ?2", rows::ACCOUNT_COLUMNS);
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let after = page.after.as_deref().unwrap_or("");
    let found = stmt.query_map(params![after, page.limit], rows::account).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn get_account(conn: &Connection, id: &AccountId) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {} FROM accounts WHERE id = ?1", rows::ACCOUNT_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str()], rows::account).optional())
        .map_err(backend)
}

pub fn find_credentials(conn: &Connection, client_id: &str) -> StoreResult<Option<AccountCredentials>> {
    let found: Option<(String, Vec<u8>)> = conn
        .prepare_cached("SELECT id, secret_hash FROM accounts WHERE client_id = ?1")
        .and_then(|mut stmt| stmt.query_row([client_id], |row| Ok((row.get(0)?, row.get(1)?))).optional())
        .map_err(backend)?;
    let Some((id, hash)) = found else { return Ok(None) };
    let secret_hash = hash.try_into().map_err(|_| crate::store::StoreError::Corrupt("secret hash length".into()))?;
    Ok(Some(AccountCredentials { account_id: AccountId::from_trusted(id), secret_hash }))
}

pub fn find_token(conn: &Connection, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>> {
    conn.prepare_cached(
        "SELECT account_id FROM oauth_tokens WHERE token_hash = ?1 AND expires_at > ?2 AND revoked_at IS NULL",
    )
    .and_then(|mut stmt| stmt.query_row(params![token_hash.as_slice(), now.as_millis()], |row| row.get(0)).optional())
    .map(|found| found.map(AccountId::from_trusted))
    .map_err(backend)
}

pub fn insert_account(conn: &Connection, new: &NewAccount) -> StoreResult<()> {
    let account = &new.account;
    conn.prepare_cached(
        "INSERT INTO accounts (id, name, client_id, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            account.id.as_str(),
            account.name,
            account.client_id,
            new.secret_hash.as_slice(),
            account.created_at.as_millis()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub fn roll_client_secret(conn: &Connection, id: &AccountId, hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE accounts SET secret_hash = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), hash.as_slice()]))
        .map_err(backend)?;
    conn.prepare_cached("UPDATE oauth_tokens SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), now.as_millis()]))
        .map_err(backend)?;
    Ok(changed == 1)
}

pub fn create_token(conn: &Connection, token: &NewToken) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO oauth_tokens (token_hash, account_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            token.token_hash.as_slice(),
            token.account_id.as_str(),
            token.created_at.as_millis(),
            token.expires_at.as_millis()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub fn revoke_token(conn: &Connection, hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE oauth_tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL")
        .and_then(|mut stmt| stmt.execute(params![hash.as_slice(), now.as_millis()]))
        .map_err(backend)?;
    Ok(changed == 1)
}
