//! What only the SQLite backend has: one writer thread. A transaction it cannot begin (another program
//! holds the file's write lock) is an unavailable database for every write of that group, which the API
//! answers with 503, and the writer goes on once the lock is gone.

use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_that_cannot_begin_is_an_unavailable_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = herald::store::sqlite::SqliteStore::open(dir.path()).unwrap();
    let other = rusqlite::Connection::open(dir.path().join("herald.db")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let refused = store.insert_meta_if_absent("fact", b"one".to_vec()).await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(store.insert_meta_if_absent("fact", b"two".to_vec()).await.unwrap(), b"two".to_vec());
}
