//! What a run cost, per delivery, so that a reader can size a cluster from one run: the CPU time of
//! Herald's processes (every node) and of PostgreSQL's server processes, PostgreSQL's commits and WAL, and
//! the bytes stored per event once the run is over.
//!
//! CPU time is read from `/proc/<pid>/stat` (user + system, in the kernel's clock ticks of 1/100 s) before
//! and after the run. PostgreSQL's is the sum over every process named `postgres`, which includes the
//! server's background workers and any other client of the same server during the run. Commits come from
//! `pg_stat_database.xact_commit`, read once the counter has settled (backends report it up to ten seconds
//! late), WAL from `pg_current_wal_lsn()`; both count the whole database, so the bench's own few queries are
//! in them too.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Clock ticks per second in `/proc` (Linux's user-visible `USER_HZ`).
const TICKS_PER_SECOND: f64 = 100.0;

/// What the run is measured on: Herald's processes, and PostgreSQL when the run uses it.
pub struct Meter<'a> {
    herald: Vec<u32>,
    postgres: Option<&'a tokio_postgres::Client>,
    /// The schema of the run on PostgreSQL, or the data directories of the SQLite nodes.
    storage: Storage,
}

pub enum Storage {
    Schema(String),
    Directories(Vec<PathBuf>),
}

/// The counters at one moment.
struct Reading {
    herald_cpu: f64,
    postgres_cpu: f64,
    commits: i64,
    wal_lsn: String,
}

/// One run's cost per delivery (per event for storage).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cost {
    pub herald_cpu_ms: f64,
    pub postgres_cpu_ms: Option<f64>,
    pub commits: Option<f64>,
    pub wal_bytes: Option<f64>,
    pub stored_bytes: f64,
}

/// The counters when the run started.
pub struct Started(Reading);

type CostResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

impl<'a> Meter<'a> {
    pub fn new(herald: Vec<u32>, postgres: Option<&'a tokio_postgres::Client>, storage: Storage) -> Self {
        Self { herald, postgres, storage }
    }

    pub async fn start(&self) -> CostResult<Started> {
        Ok(Started(self.read().await?))
    }

    /// What the run cost since `started`, for `deliveries` deliveries of as many events.
    pub async fn finish(&self, started: Started, deliveries: usize) -> CostResult<Cost> {
        let herald_cpu = cpu_seconds(&self.herald);
        if let Some(client) = self.postgres {
            settle_commits(client).await?;
        }
        let now = self.read().await?;
        let before = started.0;
        let per = |total: f64| total / deliveries as f64;
        let mut cost = Cost {
            herald_cpu_ms: per((herald_cpu - before.herald_cpu) * 1000.0),
            stored_bytes: per(self.stored_bytes().await? as f64),
            ..Cost::default()
        };
        if let Some(client) = self.postgres {
            cost.postgres_cpu_ms = Some(per((now.postgres_cpu - before.postgres_cpu) * 1000.0));
            cost.commits = Some(per((now.commits - before.commits) as f64));
            let sql = "SELECT pg_wal_lsn_diff($1::TEXT::pg_lsn, $2::TEXT::pg_lsn)::FLOAT8";
            let wal: f64 = client.query_one(sql, &[&now.wal_lsn, &before.wal_lsn]).await?.get(0);
            cost.wal_bytes = Some(per(wal));
        }
        Ok(cost)
    }

    async fn read(&self) -> CostResult<Reading> {
        let herald_cpu = cpu_seconds(&self.herald);
        let Some(client) = self.postgres else {
            return Ok(Reading { herald_cpu, postgres_cpu: 0.0, commits: 0, wal_lsn: String::new() });
        };
        let postgres_cpu = cpu_seconds(&processes_named("postgres"));
        client.batch_execute("SELECT pg_stat_clear_snapshot()").await?;
        let sql =
            "SELECT xact_commit, pg_current_wal_lsn()::TEXT FROM pg_stat_database WHERE datname = current_database()";
        let row = client.query_one(sql, &[]).await?;
        Ok(Reading { herald_cpu, postgres_cpu, commits: row.get(0), wal_lsn: row.get(1) })
    }

    async fn stored_bytes(&self) -> CostResult<u64> {
        match &self.storage {
            Storage::Directories(dirs) => Ok(dirs.iter().map(|dir| directory_bytes(dir)).sum()),
            Storage::Schema(schema) => {
                let client = self.postgres.ok_or("a schema needs PostgreSQL")?;
                let sql = "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
                           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'";
                let bytes: i64 = client.query_one(sql, &[schema]).await?.get(0);
                Ok(bytes as u64)
            }
        }
    }
}

/// Waits until `xact_commit` stops moving: backends send their counts when idle, up to ten seconds late.
async fn settle_commits(client: &tokio_postgres::Client) -> CostResult<()> {
    let sql = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()";
    let mut last: Option<i64> = None;
    for _ in 0..12 {
        client.batch_execute("SELECT pg_stat_clear_snapshot()").await?;
        let now: i64 = client.query_one(sql, &[]).await?.get(0);
        // Our own two queries per look commit too; anything more is a backend still reporting.
        if last.is_some_and(|last| now - last <= 2) {
            return Ok(());
        }
        last = Some(now);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

/// User plus system CPU seconds of these processes (those that are gone count nothing).
fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter().filter_map(|pid| process_ticks(*pid)).sum::<u64>() as f64 / TICKS_PER_SECOND
}

fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |n: usize| fields.get(n)?.parse::<u64>().ok();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some(field(11)? + field(12)?)
}

fn processes_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == name))
        .collect()
}

fn directory_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.filter_map(|entry| entry.ok()?.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
}

impl Cost {
    pub fn line(&self) -> String {
        let or_dash = |value: Option<f64>, show: &dyn Fn(f64) -> String| value.map_or("—".to_owned(), show);
        format!(
            "cost per delivery: Herald CPU {:.3} ms, PostgreSQL CPU {}, commits {}, WAL {}; stored {:.0} B per event",
            self.herald_cpu_ms,
            or_dash(self.postgres_cpu_ms, &|v| format!("{v:.3} ms")),
            or_dash(self.commits, &|v| format!("{v:.2}")),
            or_dash(self.wal_bytes, &|v| format!("{:.0} B", v)),
            self.stored_bytes,
        )
    }
}
