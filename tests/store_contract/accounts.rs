//! Accounts: two environments each, API keys found by client id, rolled with a grace period and revoked
//! with their tokens, tokens that expire and are revoked, the operator's roll of the first key.

use crate::*;

pub async fn credentials_and_tokens_follow_the_key(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let now = Timestamp::now();
    let new = new_account("Acme");
    let account = new.account.clone();
    let test_environment = new.test_environment.clone();
    store.create_account(new).await.unwrap();
    let shown = store.get_account(&account.id).await.unwrap().unwrap();
    assert_eq!((shown.name.as_str(), shown.client_id.as_str()), ("Acme", account.client_id.as_str()), "{name}");
    assert!(store.get_account(&test_environment).await.unwrap().is_none(), "{name}: a test environment is no account");
    let listed = store.list_accounts(PageRequest { after: None, limit: 1000 }).await.unwrap();
    assert!(listed.iter().any(|a| a.id == account.id) && !listed.iter().any(|a| a.id == test_environment), "{name}");
    assert_eq!(store.environment(&account.id, Mode::Live).await.unwrap(), Some(account.id.clone()), "{name}");
    assert_eq!(store.environment(&account.id, Mode::Test).await.unwrap(), Some(test_environment.clone()), "{name}");
    assert_eq!(store.environment(&AccountId::generate(), Mode::Test).await.unwrap(), None, "{name}");

    let found = store.find_credentials(&account.client_id).await.unwrap().unwrap();
    assert_eq!((found.key.environment_id.clone(), found.secret_hash), (account.id.clone(), [1; 32]), "{name}");
    assert!(store.find_credentials("no-such-client").await.unwrap().is_none(), "{name}");
    let key = found.key;

    let token = |hash: u8, expires_at: Timestamp| NewToken {
        token_hash: [hash; 32],
        key_id: key.id.clone(),
        account_id: account.id.clone(),
        created_at: now,
        expires_at,
    };
    let hour = now.plus(Duration::from_secs(3600));
    store.create_token(token(1, hour)).await.unwrap();
    store.create_token(token(2, hour)).await.unwrap();
    store.create_token(token(3, now.plus(Duration::from_secs(1)))).await.unwrap();
    assert_eq!(store.find_token(&[1; 32], now).await.unwrap(), Some(key.clone()), "{name}");
    let later = now.plus(Duration::from_secs(2));
    assert_eq!(store.find_token(&[3; 32], later).await.unwrap(), None, "{name}: an expired token");
    assert!(store.revoke_token(&[1; 32], now).await.unwrap(), "{name}");
    assert_eq!(store.find_token(&[1; 32], now).await.unwrap(), None, "{name}: a revoked token");

    assert!(store.roll_client_secret(&account.id, [4; 32], now).await.unwrap(), "{name}");
    assert_eq!(store.find_credentials(&account.client_id).await.unwrap().unwrap().secret_hash, [4; 32], "{name}");
    assert_eq!(store.find_token(&[2; 32], now).await.unwrap(), None, "{name}: a roll revokes every token");
    assert!(!store.roll_client_secret(&AccountId::generate(), [4; 32], now).await.unwrap(), "{name}: no account");
}

pub async fn keys_are_made_rolled_and_revoked(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let now = Timestamp::now();
    let new = new_account("Keys");
    let (account, test_environment) = (new.account.id.clone(), new.test_environment.clone());
    store.create_account(new).await.unwrap();
    let mut second = NewApiKey::first(&account, &test_environment, Mode::Test, keyring_token(), [5; 32], now);
    second.key.name = "CI".into();
    second.key.scope = KeyScope::ReadOnly;
    store.create_api_key(NewApiKey { key: second.key.clone(), secret_hash: [5; 32] }).await.unwrap();
    let keys = store.list_api_keys(&account).await.unwrap();
    assert_eq!(keys.len(), 2, "{name}");
    assert_eq!(keys[1], second.key, "{name}: kept as made, oldest first");
    assert_eq!(store.get_api_key(&account, &second.key.id).await.unwrap(), Some(second.key.clone()), "{name}");
    let stranger = AccountId::generate();
    assert_eq!(store.get_api_key(&stranger, &second.key.id).await.unwrap(), None, "{name}: another account's key");

    // A roll with a grace period keeps the secret before, and cuts the key's tokens to that period.
    let token = NewToken {
        token_hash: [8; 32],
        key_id: second.key.id.clone(),
        account_id: test_environment.clone(),
        created_at: now,
        expires_at: now.plus(Duration::from_secs(3600)),
    };
    store.create_token(token).await.unwrap();
    let grace_end = now.plus(Duration::from_secs(60));
    let roll = KeyRoll { secret_hash: [6; 32], previous_expires_at: grace_end, now };
    assert!(store.roll_api_key(&account, &second.key.id, roll).await.unwrap(), "{name}");
    let found = store.find_credentials(&second.key.client_id).await.unwrap().unwrap();
    assert_eq!((found.secret_hash, found.previous_hash), ([6; 32], Some([5; 32])), "{name}");
    assert_eq!(found.key.previous_expires_at, Some(grace_end), "{name}");
    assert!(store.find_token(&[8; 32], now).await.unwrap().is_some(), "{name}: a token lives through the grace");
    let after = grace_end.plus(Duration::from_secs(1));
    assert!(store.find_token(&[8; 32], after).await.unwrap().is_none(), "{name}: and ends with it");
    let now_roll = KeyRoll { secret_hash: [7; 32], previous_expires_at: now, now };
    assert!(store.roll_api_key(&account, &second.key.id, now_roll).await.unwrap(), "{name}");
    let found = store.find_credentials(&second.key.client_id).await.unwrap().unwrap();
    assert_eq!((found.secret_hash, found.previous_hash), ([7; 32], None), "{name}: no grace keeps nothing");
    assert!(
        !store
            .roll_api_key(&stranger, &second.key.id, KeyRoll { secret_hash: [1; 32], previous_expires_at: now, now })
            .await
            .unwrap(),
        "{name}"
    );

    // Use is noted, never backwards.
    let (earlier, latest) = (now.plus(Duration::from_secs(5)), now.plus(Duration::from_secs(10)));
    store.touch_api_keys(vec![(second.key.id.clone(), latest), (second.key.id.clone(), earlier)]).await.unwrap();
    store.touch_api_keys(vec![(second.key.id.clone(), earlier)]).await.unwrap();
    let touched = store.get_api_key(&account, &second.key.id).await.unwrap().unwrap();
    assert_eq!(touched.last_used_at, Some(latest), "{name}");

    // Revoking ends the key and its tokens.
    let token =
        NewToken { token_hash: [9; 32], expires_at: now.plus(Duration::from_secs(3600)), ..token_of(&second.key, now) };
    store.create_token(token).await.unwrap();
    assert!(store.revoke_api_key(&account, &second.key.id, now).await.unwrap(), "{name}");
    assert!(!store.revoke_api_key(&account, &second.key.id, now).await.unwrap(), "{name}: once");
    assert!(store.find_credentials(&second.key.client_id).await.unwrap().is_none(), "{name}");
    assert!(store.find_token(&[9; 32], now).await.unwrap().is_none(), "{name}: its tokens die with it");
    assert_eq!(store.list_api_keys(&account).await.unwrap().len(), 1, "{name}");
}

fn token_of(key: &ApiKey, now: Timestamp) -> NewToken {
    NewToken {
        token_hash: [0; 32],
        key_id: key.id.clone(),
        account_id: key.environment_id.clone(),
        created_at: now,
        expires_at: now,
    }
}

pub async fn request_logs_are_kept_per_environment(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let new = new_account("Logs");
    let (account, test_environment) = (new.account.id.clone(), new.test_environment.clone());
    store.create_account(new).await.unwrap();
    let key = first_key(store, &account).await;
    let event = EventId::generate();
    let log = |status: u16, method: &str, path: &str, environment: &AccountId| RequestLog {
        id: RequestId::generate(),
        account_id: environment.clone(),
        api_key_id: key.id.clone(),
        mode: if environment == &account { Mode::Live } else { Mode::Test },
        method: method.into(),
        path: path.into(),
        status,
        duration_ms: 12,
        idempotency_key: Some("idem-1".into()),
        client_address: Some("127.0.0.1".into()),
        event_id: (path.contains("resend")).then(|| event.clone()),
        request_body: Some(r#"{"url":"x"}"#.into()),
        response_body: Some("{}".into()),
        created_at: Timestamp::now(),
    };
    let logs = vec![
        log(201, "POST", "/v1/notifications/webhooks", &account),
        log(422, "POST", "/v1/notifications/webhooks", &account),
        log(200, "GET", "/v1/notifications/webhooks?page_size=2", &account),
        log(202, "POST", &format!("/v1/notifications/webhooks-events/{event}/resend"), &account),
        log(200, "GET", "/v1/api-keys", &test_environment),
    ];
    store.record_requests(logs.clone()).await.unwrap();
    store.record_requests(vec![logs[0].clone()]).await.unwrap();
    let all = |filter| store.list_request_logs(&account, filter, PageRequest { after: None, limit: 10 });
    let listed = all(RequestLogFilter::default()).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|l| l.id.clone()).collect();
    assert_eq!(
        ids,
        logs[..4].iter().rev().map(|l| l.id.clone()).collect::<Vec<_>>(),
        "{name}: newest first, once each"
    );
    assert_eq!(listed[3], logs[0], "{name}: kept as recorded");
    let failed = all(RequestLogFilter { succeeded: Some(false), ..Default::default() }).await.unwrap();
    assert_eq!(failed.iter().map(|l| l.status).collect::<Vec<_>>(), vec![422], "{name}");
    let gets = all(RequestLogFilter { method: Some("GET".into()), ..Default::default() }).await.unwrap();
    assert_eq!(gets.len(), 1, "{name}");
    let webhooks = RequestLogFilter {
        path_prefix: Some("/v1/notifications/webhooks".into()),
        succeeded: Some(true),
        ..Default::default()
    };
    assert_eq!(all(webhooks).await.unwrap().len(), 3, "{name}: a prefix of the path (the events path too)");
    let touching = all(RequestLogFilter { event_id: Some(event.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(touching.iter().map(|l| l.id.clone()).collect::<Vec<_>>(), vec![logs[3].id.clone()], "{name}");
    let page = store
        .list_request_logs(
            &account,
            RequestLogFilter::default(),
            PageRequest { after: Some(ids[1].to_string()), limit: 10 },
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 2, "{name}: the page after a cursor");
    assert_eq!(store.get_request_log(&account, &logs[1].id).await.unwrap(), Some(logs[1].clone()), "{name}");
    assert_eq!(
        store.get_request_log(&test_environment, &logs[1].id).await.unwrap(),
        None,
        "{name}: not in the other mode"
    );
    let in_test = store
        .list_request_logs(&test_environment, RequestLogFilter::default(), PageRequest { after: None, limit: 10 })
        .await
        .unwrap();
    assert_eq!(in_test.len(), 1, "{name}");
    let used = store.get_api_key(&account, &key.id).await.unwrap().unwrap().last_used_at;
    assert_eq!(used, logs.iter().map(|l| l.created_at).max(), "{name}: recording notes when the key was used");

    let removed = store.expire_request_logs(Timestamp::now().plus(Duration::from_secs(1)), 3).await.unwrap();
    assert_eq!(removed, 3, "{name}: bounded");
    assert!(
        store.expire_request_logs(Timestamp::now().plus(Duration::from_secs(1)), 100).await.unwrap() >= 2,
        "{name}"
    );
    assert!(all(RequestLogFilter::default()).await.unwrap().is_empty(), "{name}");
}

contract!(
    credentials_and_tokens_follow_the_key,
    keys_are_made_rolled_and_revoked,
    request_logs_are_kept_per_environment
);
