//! SQLite: merchant accounts, their environments, API keys and OAuth access tokens.

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

    async fn environment(&self, account: &AccountId, mode: Mode) -> StoreResult<Option<AccountId>> {
        let (found, exists) =
            self.read(|conn| Ok((find_environment(conn, account, mode)?, live_exists(conn, account)?)))?;
        if found.is_some() || !exists {
            return Ok(found);
        }
        let account = account.clone();
        self.writer.write(move |conn| add_test_environment(conn, &account)).await
    }

    async fn create_api_key(&self, key: NewApiKey) -> StoreResult<()> {
        self.writer.write(move |conn| insert_api_key(conn, &key)).await
    }

    async fn list_api_keys(&self, owner: &AccountId) -> StoreResult<Vec<ApiKey>> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {} FROM api_keys k WHERE k.owner_id = ?1 AND k.revoked_at IS NULL ORDER BY k.id",
                rows::API_KEY_COLUMNS
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let found = stmt.query_map([owner.as_str()], rows::api_key).map_err(backend)?;
            found.collect::<Result<_, _>>().map_err(backend)
        })
    }

    async fn get_api_key(&self, owner: &AccountId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {} FROM api_keys k WHERE k.id = ?1 AND k.owner_id = ?2 AND k.revoked_at IS NULL",
                rows::API_KEY_COLUMNS
            );
            conn.prepare_cached(&sql)
                .and_then(|mut stmt| stmt.query_row([id.as_str(), owner.as_str()], rows::api_key).optional())
                .map_err(backend)
        })
    }

    async fn revoke_api_key(&self, owner: &AccountId, id: &ApiKeyId, now: Timestamp) -> StoreResult<bool> {
        let (owner, id) = (owner.clone(), id.clone());
        self.writer.write(move |conn| revoke_api_key(conn, &owner, &id, now)).await
    }

    async fn roll_api_key(&self, owner: &AccountId, id: &ApiKeyId, roll: KeyRoll) -> StoreResult<bool> {
        let (owner, id) = (owner.clone(), id.clone());
        self.writer.write(move |conn| roll_api_key(conn, &owner, &id, &roll)).await
    }

    async fn touch_api_keys(&self, used: Vec<(ApiKeyId, Timestamp)>) -> StoreResult<()> {
        self.writer.write(move |conn| touch_api_keys(conn, &used)).await
    }

    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<KeyCredentials>> {
        self.read(|conn| find_credentials(conn, client_id))
    }

    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool> {
        let id = id.clone();
        self.writer.write(move |conn| roll_client_secret(conn, &id, &secret_hash, now)).await
    }

    async fn create_token(&self, token: NewToken) -> StoreResult<()> {
        self.writer.write(move |conn| create_token(conn, &token)).await
    }

    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<ApiKey>> {
        self.read(|conn| find_token(conn, token_hash, now))
    }

    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
        let hash = *token_hash;
        self.writer.write(move |conn| revoke_token(conn, &hash, now)).await
    }
}

pub fn list_accounts(conn: &Connection, page: &PageRequest) -> StoreResult<Vec<Account>> {
    let sql = format!(
        "SELECT {} FROM accounts WHERE id > ?1 AND live_account_id IS NULL ORDER BY id LIMIT ?2",
        rows::ACCOUNT_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let after = page.after.as_deref().unwrap_or("");
    let found = stmt.query_map(params![after, page.limit], rows::account).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn get_account(conn: &Connection, id: &AccountId) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {} FROM accounts WHERE id = ?1 AND live_account_id IS NULL", rows::ACCOUNT_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str()], rows::account).optional())
        .map_err(backend)
}

fn live_exists(conn: &Connection, id: &AccountId) -> StoreResult<bool> {
    conn.prepare_cached("SELECT 1 FROM accounts WHERE id = ?1 AND live_account_id IS NULL")
        .and_then(|mut stmt| stmt.exists([id.as_str()]))
        .map_err(backend)
}

fn find_environment(conn: &Connection, account: &AccountId, mode: Mode) -> StoreResult<Option<AccountId>> {
    if mode.is_live() {
        return Ok(live_exists(conn, account)?.then(|| account.clone()));
    }
    conn.prepare_cached("SELECT id FROM accounts WHERE live_account_id = ?1")
        .and_then(|mut stmt| stmt.query_row([account.as_str()], |row| row.get(0)).optional())
        .map(|found| found.map(AccountId::from_trusted))
        .map_err(backend)
}

/// The test environment of an account made before environments existed (or found, if another write
/// made it first).
fn add_test_environment(conn: &Connection, account: &AccountId) -> StoreResult<Option<AccountId>> {
    conn.prepare_cached(
        "INSERT INTO accounts (id, name, created_at, live_account_id) \
         SELECT ?1, name, created_at, id FROM accounts WHERE id = ?2 AND live_account_id IS NULL \
         ON CONFLICT DO NOTHING",
    )
    .and_then(|mut stmt| stmt.execute([AccountId::generate().as_str(), account.as_str()]))
    .map_err(backend)?;
    find_environment(conn, account, Mode::Test)
}

pub fn insert_account(conn: &Connection, new: &NewAccount) -> StoreResult<()> {
    let account = &new.account;
    let mut stmt = conn
        .prepare_cached("INSERT INTO accounts (id, name, created_at, live_account_id) VALUES (?1, ?2, ?3, ?4)")
        .map_err(backend)?;
    let created = account.created_at.as_millis();
    stmt.execute(params![account.id.as_str(), account.name, created, None::<String>]).map_err(backend)?;
    stmt.execute(params![new.test_environment.as_str(), account.name, created, account.id.as_str()])
        .map_err(backend)?;
    new.keys.iter().try_for_each(|key| insert_api_key(conn, key))
}

pub fn insert_api_key(conn: &Connection, new: &NewApiKey) -> StoreResult<()> {
    let key = &new.key;
    conn.prepare_cached(
        "INSERT INTO api_keys (id, owner_id, account_id, name, mode, scope, client_id, secret_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            key.id.as_str(),
            key.owner_id.as_str(),
            key.environment_id.as_str(),
            key.name,
            key.mode.as_str(),
            key.scope.as_str(),
            key.client_id,
            new.secret_hash.as_slice(),
            key.created_at.as_millis()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

fn revoke_api_key(conn: &Connection, owner: &AccountId, id: &ApiKeyId, now: Timestamp) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND owner_id = ?2 AND revoked_at IS NULL")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), owner.as_str(), now.as_millis()]))
        .map_err(backend)?;
    if changed == 1 {
        revoke_key_tokens(conn, id, now)?;
    }
    Ok(changed == 1)
}

fn revoke_key_tokens(conn: &Connection, id: &ApiKeyId, now: Timestamp) -> StoreResult<()> {
    conn.prepare_cached("UPDATE oauth_tokens SET revoked_at = ?2 WHERE key_id = ?1 AND revoked_at IS NULL")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), now.as_millis()]))
        .map_err(backend)?;
    Ok(())
}

fn roll_api_key(conn: &Connection, owner: &AccountId, id: &ApiKeyId, roll: &KeyRoll) -> StoreResult<bool> {
    let keep_previous = roll.previous_expires_at > roll.now;
    let expires = keep_previous.then_some(roll.previous_expires_at.as_millis());
    let changed = conn
        .prepare_cached(
            "UPDATE api_keys SET previous_hash = CASE WHEN ?4 IS NULL THEN NULL ELSE secret_hash END, \
             previous_expires_at = ?4, secret_hash = ?3 WHERE id = ?1 AND owner_id = ?2 AND revoked_at IS NULL",
        )
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), owner.as_str(), roll.secret_hash.as_slice(), expires]))
        .map_err(backend)?;
    if changed == 0 {
        return Ok(false);
    }
    conn.prepare_cached(
        "UPDATE oauth_tokens SET expires_at = MIN(expires_at, ?2) WHERE key_id = ?1 AND revoked_at IS NULL",
    )
    .and_then(|mut stmt| stmt.execute(params![id.as_str(), roll.previous_expires_at.max(roll.now).as_millis()]))
    .map_err(backend)?;
    Ok(changed == 1)
}

pub fn touch_api_keys(conn: &Connection, used: &[(ApiKeyId, Timestamp)]) -> StoreResult<()> {
    let mut stmt = conn
        .prepare_cached("UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?2) WHERE id = ?1")
        .map_err(backend)?;
    for (id, at) in used {
        stmt.execute(params![id.as_str(), at.as_millis()]).map_err(backend)?;
    }
    Ok(())
}

fn hash_of(bytes: Vec<u8>) -> StoreResult<[u8; 32]> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("secret hash length".into()))
}

pub fn find_credentials(conn: &Connection, client_id: &str) -> StoreResult<Option<KeyCredentials>> {
    let sql = format!(
        "SELECT {}, k.secret_hash, k.previous_hash FROM api_keys k WHERE k.client_id = ?1 AND k.revoked_at IS NULL",
        rows::API_KEY_COLUMNS
    );
    let found = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row([client_id], |row| {
                Ok((rows::api_key(row)?, row.get::<_, Vec<u8>>(10)?, row.get::<_, Option<Vec<u8>>>(11)?))
            })
            .optional()
        })
        .map_err(backend)?;
    let Some((key, hash, previous)) = found else { return Ok(None) };
    Ok(Some(KeyCredentials { key, secret_hash: hash_of(hash)?, previous_hash: previous.map(hash_of).transpose()? }))
}

pub fn find_token(conn: &Connection, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<ApiKey>> {
    let sql = format!(
        "SELECT {} FROM oauth_tokens t JOIN api_keys k ON k.id = t.key_id \
         WHERE t.token_hash = ?1 AND t.expires_at > ?2 AND t.revoked_at IS NULL AND k.revoked_at IS NULL",
        rows::API_KEY_COLUMNS
    );
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row(params![token_hash.as_slice(), now.as_millis()], rows::api_key).optional())
        .map_err(backend)
}

pub fn roll_client_secret(conn: &Connection, id: &AccountId, hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
    let first: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM api_keys WHERE account_id = ?1 AND mode = 'live' AND revoked_at IS NULL \
             ORDER BY id LIMIT 1",
        )
        .and_then(|mut stmt| stmt.query_row([id.as_str()], |row| row.get(0)).optional())
        .map_err(backend)?;
    let Some(key) = first.map(ApiKeyId::from_trusted) else { return Ok(false) };
    conn.prepare_cached(
        "UPDATE api_keys SET secret_hash = ?2, previous_hash = NULL, previous_expires_at = NULL WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![key.as_str(), hash.as_slice()]))
    .map_err(backend)?;
    revoke_key_tokens(conn, &key, now)?;
    Ok(true)
}

pub fn create_token(conn: &Connection, token: &NewToken) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO oauth_tokens (token_hash, account_id, key_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            token.token_hash.as_slice(),
            token.account_id.as_str(),
            token.key_id.as_str(),
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
