//! A memory budget: while the process holds more than `HERALD_MEMORY_LIMIT`, new events are answered 503
//! `OUT_OF_MEMORY` with `Retry-After` and `/readyz` says why; once memory is given back, publishing works
//! again by itself. The server runs in this test's own process, so the test moves its resident set for real.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::spawn_app_with;

fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_memory_budget_new_events_wait_and_then_go_through() {
    let limit = resident() + (200 << 20);
    let app = spawn_app_with(|settings| settings.memory_limit = limit).await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let event = json!({"n": 1});
    assert_eq!(app.publish(&merchant, "charge.succeeded", event.clone()).await.status(), 202);

    // Take 400 MiB, touched so that it is resident.
    let ballast = vec![1u8; 400 << 20];
    tokio::time::sleep(Duration::from_millis(150)).await;
    let refused = app.publish(&merchant, "charge.succeeded", event.clone()).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["details"][0]["issue"], "OUT_OF_MEMORY", "{error}");
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["details"][0]["issue"], "OUT_OF_MEMORY", "{ready}");
    assert_eq!(ballast.iter().step_by(4096).map(|&b| b as u64).sum::<u64>(), 400 << 8);

    drop(ballast);
    let back = crate::support::eventually(Duration::from_secs(5), || async {
        let response = app.publish(&merchant, "charge.succeeded", event.clone()).await;
        (response.status() == 202).then_some(())
    })
    .await;
    assert_eq!(back, ());
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200);
}
