//! The two backends' migrations are kept in step: after migrating, both databases have the same tables
//! with the same columns (types differ by dialect and are not compared). PostgreSQL's time partitions are
//! its own: the partitions themselves, their list, and the event id that places an attempt in one; so is
//! the transaction id that orders its events for streams (SQLite's row ids do that).

use std::collections::BTreeSet;

use crate::*;

fn sqlite_columns(path: &std::path::Path) -> BTreeSet<(String, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut columns = BTreeSet::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')")).unwrap();
        for column in stmt.query_map([], |row| row.get::<_, String>(0)).unwrap() {
            columns.insert((table.clone(), column.unwrap()));
        }
    }
    columns
}

async fn postgres_columns(url: &str) -> BTreeSet<(String, String)> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let sql = "SELECT c.table_name::TEXT, c.column_name::TEXT FROM information_schema.columns c \
               JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
               WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                 AND c.table_name <> 'herald_migrations'";
    let partitioning = |(table, column): &(String, String)| {
        let partition = table.rsplit_once("_p").is_some_and(|(_, start)| start.parse::<u64>().is_ok());
        partition
            || table == "history_partitions"
            || (table == "attempts" && column == "event_id")
            || (table == "events" && column == "txid")
    };
    let columns: BTreeSet<(String, String)> =
        client.query(sql, &[]).await.unwrap().iter().map(|row| (row.get(0), row.get(1))).collect();
    assert!(columns.iter().any(|c| c.0 == "events_p0"), "the first span is a table of its own");
    columns.into_iter().filter(|c| !partitioning(c)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn both_backends_migrate_to_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    drop(herald::store::sqlite::SqliteStore::open(dir.path()).unwrap());
    let sqlite = sqlite_columns(&dir.path().join("herald.db"));
    let schema = common::PgSchema::create(&common::postgres_url()).await;
    let store = herald::store::postgres::PostgresStore::connect(&schema.url, Default::default()).await.unwrap();
    drop(store);
    let postgres = postgres_columns(&schema.url).await;
    assert!(sqlite.len() > 40, "the SQLite schema was read: {sqlite:?}");
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only on SQLite: {only_sqlite:?}; only on PostgreSQL: {only_postgres:?}"
    );
}
