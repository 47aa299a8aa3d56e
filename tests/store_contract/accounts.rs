//! Accounts: credentials found by client id, tokens that expire and are revoked, a roll that revokes them.

use crate::*;

pub async fn credentials_and_tokens_follow_the_account(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let now = Timestamp::now();
    let account =
        Account { id: AccountId::generate(), name: "Acme".into(), client_id: keyring_token(), created_at: now };
    store.create_account(NewAccount { account: account.clone(), secret_hash: [3; 32] }).await.unwrap();
    assert_eq!(store.get_account(&account.id).await.unwrap().map(|a| a.name), Some("Acme".into()), "{name}");
    let found = store.find_credentials(&account.client_id).await.unwrap().unwrap();
    assert_eq!((found.account_id, found.secret_hash), (account.id.clone(), [3; 32]), "{name}");
    assert!(store.find_credentials("no-such-client").await.unwrap().is_none(), "{name}");
    let listed = store.list_accounts(PageRequest { after: None, limit: 10 }).await.unwrap();
    assert!(listed.iter().any(|a| a.id == account.id), "{name}");

    let token = |hash: u8, expires_at: Timestamp| NewToken {
        token_hash: [hash; 32],
        account_id: account.id.clone(),
        created_at: now,
        expires_at,
    };
    let hour = now.plus(Duration::from_secs(3600));
    store.create_token(token(1, hour)).await.unwrap();
    store.create_token(token(2, hour)).await.unwrap();
    store.create_token(token(3, now.plus(Duration::from_secs(1)))).await.unwrap();
    assert_eq!(store.find_token(&[1; 32], now).await.unwrap(), Some(account.id.clone()), "{name}");
    let later = now.plus(Duration::from_secs(2));
    assert_eq!(store.find_token(&[3; 32], later).await.unwrap(), None, "{name}: an expired token");
    assert!(store.revoke_token(&[1; 32], now).await.unwrap(), "{name}");
    assert_eq!(store.find_token(&[1; 32], now).await.unwrap(), None, "{name}: a revoked token");

    assert!(store.roll_client_secret(&account.id, [4; 32], now).await.unwrap(), "{name}");
    assert_eq!(store.find_credentials(&account.client_id).await.unwrap().unwrap().secret_hash, [4; 32], "{name}");
    assert_eq!(store.find_token(&[2; 32], now).await.unwrap(), None, "{name}: a roll revokes every token");
    assert!(!store.roll_client_secret(&AccountId::generate(), [4; 32], now).await.unwrap(), "{name}: no account");
}

contract!(credentials_and_tokens_follow_the_account);
