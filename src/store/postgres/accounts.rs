//! PostgreSQL: merchant accounts, their environments, API keys and OAuth access tokens.

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
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        insert_account(&transaction, &account).await?;
        transaction.commit().await.map_err(pg)
    }

    async fn list_accounts(&self, page: PageRequest) -> StoreResult<Vec<Account>> {
        list_accounts(&self.client().await?, &page).await
    }

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        get_account(&self.client().await?, id).await
    }

    async fn environment(&self, account: &AccountId, mode: Mode) -> StoreResult<Option<AccountId>> {
        let c = self.client().await?;
        let live = "SELECT id FROM accounts WHERE id = $1 AND live_account_id IS NULL";
        if mode.is_live() {
            return Ok(query_opt(&c, live, &[&account.as_str()]).await?.map(|row| AccountId::from_trusted(row.get(0))));
        }
        // Made here for an account created before environments existed; a concurrent maker wins alike.
        let add = "INSERT INTO accounts (id, name, created_at, live_account_id) \
                   SELECT $1, name, created_at, id FROM accounts WHERE id = $2 AND live_account_id IS NULL \
                   ON CONFLICT DO NOTHING";
        let find = "SELECT id FROM accounts WHERE live_account_id = $1";
        if let Some(row) = query_opt(&c, find, &[&account.as_str()]).await? {
            return Ok(Some(AccountId::from_trusted(row.get(0))));
        }
        execute(&c, add, &[&AccountId::generate().as_str(), &account.as_str()]).await?;
        Ok(query_opt(&c, find, &[&account.as_str()]).await?.map(|row| AccountId::from_trusted(row.get(0))))
    }

    async fn create_api_key(&self, key: NewApiKey) -> StoreResult<()> {
        insert_api_key(&self.client().await?, &key).await
    }

    async fn list_api_keys(&self, owner: &AccountId) -> StoreResult<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys k WHERE k.owner_id = $1 AND k.revoked_at IS NULL ORDER BY k.id"
        );
        all(query(&self.client().await?, &sql, &[&owner.as_str()]).await?, rows::api_key)
    }

    async fn get_api_key(&self, owner: &AccountId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys k WHERE k.id = $1 AND k.owner_id = $2 AND k.revoked_at IS NULL"
        );
        let found = query_opt(&self.client().await?, &sql, &[&id.as_str(), &owner.as_str()]).await?;
        found.as_ref().map(rows::api_key).transpose()
    }

    async fn revoke_api_key(&self, owner: &AccountId, id: &ApiKeyId, now: Timestamp) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let sql = "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND owner_id = $2 AND revoked_at IS NULL";
        let changed = execute(&transaction, sql, &[&id.as_str(), &owner.as_str(), &now.as_millis()]).await?;
        if changed == 1 {
            revoke_key_tokens(&transaction, id, now).await?;
        }
        transaction.commit().await.map_err(pg)?;
        Ok(changed == 1)
    }

    async fn roll_api_key(&self, owner: &AccountId, id: &ApiKeyId, roll: KeyRoll) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let expires = (roll.previous_expires_at > roll.now).then_some(roll.previous_expires_at.as_millis());
        let sql = "UPDATE api_keys SET previous_hash = CASE WHEN $4::bigint IS NULL THEN NULL ELSE secret_hash END, \
                   previous_expires_at = $4, secret_hash = $3 WHERE id = $1 AND owner_id = $2 AND revoked_at IS NULL";
        let params: Params = &[&id.as_str(), &owner.as_str(), &roll.secret_hash.as_slice(), &expires];
        let changed = execute(&transaction, sql, params).await?;
        if changed == 0 {
            return Ok(false);
        }
        let tokens =
            "UPDATE oauth_tokens SET expires_at = LEAST(expires_at, $2) WHERE key_id = $1 AND revoked_at IS NULL";
        let until = roll.previous_expires_at.max(roll.now).as_millis();
        execute(&transaction, tokens, &[&id.as_str(), &until]).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(changed == 1)
    }

    async fn touch_api_keys(&self, used: Vec<(ApiKeyId, Timestamp)>) -> StoreResult<()> {
        touch_api_keys(&self.client().await?, &used).await
    }

    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<KeyCredentials>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS}, k.secret_hash, k.previous_hash FROM api_keys k \
             WHERE k.client_id = $1 AND k.revoked_at IS NULL"
        );
        let Some(row) = query_opt(&self.client().await?, &sql, &[&client_id]).await? else { return Ok(None) };
        let previous: Option<Vec<u8>> = row.get(11);
        Ok(Some(KeyCredentials {
            key: rows::api_key(&row)?,
            secret_hash: hash_of(row.get(10))?,
            previous_hash: previous.map(hash_of).transpose()?,
        }))
    }

    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let first = "SELECT id FROM api_keys WHERE account_id = $1 AND mode = 'live' AND revoked_at IS NULL \
                     ORDER BY id LIMIT 1 FOR UPDATE";
        let Some(row) = query_opt(&transaction, first, &[&id.as_str()]).await? else { return Ok(false) };
        let key = ApiKeyId::from_trusted(row.get(0));
        let sql =
            "UPDATE api_keys SET secret_hash = $2, previous_hash = NULL, previous_expires_at = NULL WHERE id = $1";
        execute(&transaction, sql, &[&key.as_str(), &secret_hash.as_slice()]).await?;
        revoke_key_tokens(&transaction, &key, now).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(true)
    }

    async fn create_token(&self, token: NewToken) -> StoreResult<()> {
        let sql = "INSERT INTO oauth_tokens (token_hash, account_id, key_id, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        let params: Params = &[
            &token.token_hash.as_slice(),
            &token.account_id.as_str(),
            &token.key_id.as_str(),
            &token.created_at.as_millis(),
            &token.expires_at.as_millis(),
        ];
        execute(&self.client().await?, sql, params).await?;
        Ok(())
    }

    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<ApiKey>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM oauth_tokens t JOIN api_keys k ON k.id = t.key_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND t.revoked_at IS NULL AND k.revoked_at IS NULL"
        );
        let found = query_opt(&self.client().await?, &sql, &[&token_hash.as_slice(), &now.as_millis()]).await?;
        found.as_ref().map(rows::api_key).transpose()
    }

    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
        let sql = "UPDATE oauth_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL";
        Ok(execute(&self.client().await?, sql, &[&token_hash.as_slice(), &now.as_millis()]).await? == 1)
    }
}

fn hash_of(bytes: Vec<u8>) -> StoreResult<[u8; 32]> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("secret hash length".into()))
}

pub async fn insert_account(c: &impl GenericClient, new: &NewAccount) -> StoreResult<()> {
    let a = &new.account;
    let sql = "INSERT INTO accounts (id, name, created_at, live_account_id) VALUES ($1, $2, $3, $4)";
    execute(c, sql, &[&a.id.as_str(), &a.name, &a.created_at.as_millis(), &None::<String>]).await?;
    execute(c, sql, &[&new.test_environment.as_str(), &a.name, &a.created_at.as_millis(), &a.id.as_str()]).await?;
    for key in &new.keys {
        insert_api_key(c, key).await?;
    }
    Ok(())
}

pub async fn insert_api_key(c: &impl GenericClient, new: &NewApiKey) -> StoreResult<()> {
    let k = &new.key;
    let sql = "INSERT INTO api_keys (id, owner_id, account_id, name, mode, scope, client_id, secret_hash, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let params: Params = &[
        &k.id.as_str(),
        &k.owner_id.as_str(),
        &k.environment_id.as_str(),
        &k.name,
        &k.mode.as_str(),
        &k.scope.as_str(),
        &k.client_id,
        &new.secret_hash.as_slice(),
        &k.created_at.as_millis(),
    ];
    execute(c, sql, params).await?;
    Ok(())
}

async fn revoke_key_tokens(c: &impl GenericClient, id: &ApiKeyId, now: Timestamp) -> StoreResult<()> {
    let sql = "UPDATE oauth_tokens SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL";
    execute(c, sql, &[&id.as_str(), &now.as_millis()]).await?;
    Ok(())
}

/// Notes when keys were used, in one statement.
pub async fn touch_api_keys(c: &impl GenericClient, used: &[(ApiKeyId, Timestamp)]) -> StoreResult<()> {
    if used.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = used.iter().map(|(id, _)| id.as_str()).collect();
    let times: Vec<i64> = used.iter().map(|(_, at)| at.as_millis()).collect();
    let sql = "UPDATE api_keys k SET last_used_at = GREATEST(COALESCE(k.last_used_at, 0), u.at) \
               FROM (SELECT id, MAX(at) AS at FROM unnest($1::text[], $2::bigint[]) AS u(id, at) GROUP BY id) u \
               WHERE k.id = u.id";
    execute(c, sql, &[&ids, &times]).await?;
    Ok(())
}

pub async fn list_accounts(c: &impl GenericClient, page: &PageRequest) -> StoreResult<Vec<Account>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id > $1 AND live_account_id IS NULL ORDER BY id LIMIT $2"
    );
    let after = page.after.clone().unwrap_or_default();
    all(query(c, &sql, &[&after, &i64::from(page.limit)]).await?, rows::account)
}

pub async fn get_account(c: &impl GenericClient, id: &AccountId) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1 AND live_account_id IS NULL");
    query_opt(c, &sql, &[&id.as_str()]).await?.as_ref().map(rows::account).transpose()
}
