//! Settings for `herald serve`: each one has a flag, a `HERALD_*` environment variable and a key in the
//! optional TOML file. A flag or variable wins over the file, the file over the default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::retry::RetrySchedule;

/// Why the settings could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
}

/// The flags of `herald serve` (each also read from its environment variable).
#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// A TOML file with any of the settings below (keys are the flag names with '_' for '-').
    #[arg(long, env = "HERALD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address of the API; ":0" picks a free port on 127.0.0.1 [default: 127.0.0.1:8080]
    #[arg(long, env = "HERALD_LISTEN")]
    pub listen: Option<String>,
    /// Where the SQLite database, the admin token and the master key live [default: ./herald-data]
    #[arg(long, env = "HERALD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A database URL; unset means the embedded SQLite database in the data directory.
    #[arg(long, env = "HERALD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The operator's bearer token [default: generated on first start and stored in the data directory]
    #[arg(long, env = "HERALD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Base of the links Herald puts in events [default: http://<listen>]
    #[arg(long, env = "HERALD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Delays between attempts after the first [default: 5s,5m,30m,2h,5h,10h,14h,20h,24h]
    #[arg(long, env = "HERALD_RETRY_SCHEDULE")]
    pub retry_schedule: Option<String>,
    /// Total time one attempt may take [default: 15s]
    #[arg(long, env = "HERALD_DELIVERY_TIMEOUT")]
    pub delivery_timeout: Option<String>,
    /// Time to establish a connection [default: 5s]
    #[arg(long, env = "HERALD_CONNECT_TIMEOUT")]
    pub connect_timeout: Option<String>,
    /// Most attempts in flight at once [default: 512]
    #[arg(long, env = "HERALD_MAX_IN_FLIGHT")]
    pub max_in_flight: Option<usize>,
    /// Most webhooks per account [default: 10]
    #[arg(long, env = "HERALD_WEBHOOK_LIMIT")]
    pub webhook_limit: Option<u32>,
    /// Largest request body accepted by the API, in bytes [default: 262144]
    #[arg(long, env = "HERALD_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// How long in-flight attempts may run on shutdown [default: 10s]
    #[arg(long, env = "HERALD_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<String>,
    /// How long an OAuth access token lives [default: 9h]
    #[arg(long, env = "HERALD_TOKEN_LIFETIME")]
    pub token_lifetime: Option<String>,
    /// Connections in the PostgreSQL pool [default: 16]
    #[arg(long, env = "HERALD_DATABASE_POOL_SIZE")]
    pub database_pool_size: Option<usize>,
    /// How long a request waits for a database connection before answering 503 [default: 5s]
    #[arg(long, env = "HERALD_DATABASE_TIMEOUT")]
    pub database_timeout: Option<String>,
    /// How long a claim on a delivery holds; a dead node's claims come back after this [default: 60s]
    #[arg(long, env = "HERALD_LEASE_DURATION")]
    pub lease_duration: Option<String>,
    /// Base64 of 32 random bytes that seal webhook secrets; every node sharing a database needs the same
    /// [default: generated in the data directory]
    #[arg(long, env = "HERALD_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// This process's name in the attempt log [default: host name and process id]
    #[arg(long, env = "HERALD_NODE_ID")]
    pub node_id: Option<String>,
    /// Delete events, deliveries and attempts older than this [default: 30d; "0" keeps everything]
    #[arg(long, env = "HERALD_RETENTION")]
    pub retention: Option<String>,
    /// Disable a webhook whose every attempt has failed for this long [default: 5d; "0" never]
    #[arg(long, env = "HERALD_DISABLE_AFTER")]
    pub disable_after: Option<String>,
    /// Where Herald posts its own events (webhook.failing, webhook.recovered, webhook.disabled,
    /// delivery.exhausted) [default: nowhere]
    #[arg(long, env = "HERALD_OPERATOR_URL")]
    pub operator_url: Option<String>,
    /// The whsec_ secret those events are signed with [default: made on first start and shown once]
    #[arg(long, env = "HERALD_OPERATOR_SECRET")]
    pub operator_secret: Option<String>,
    /// Subnets that deliveries may reach although private or loopback, e.g. "127.0.0.0/8,10.1.0.0/16"
    #[arg(long, env = "HERALD_ALLOW_SUBNETS")]
    pub allow_subnets: Option<String>,
    /// Deliver only inside the allowed subnets (a sandbox that never calls out) [default: false]
    #[arg(long, env = "HERALD_DELIVER_ONLY_TO_ALLOWED")]
    pub deliver_only_to_allowed: Option<bool>,
    /// Accept and deliver to https:// webhook URLs only [default: false]
    #[arg(long, env = "HERALD_HTTPS_ONLY")]
    pub https_only: Option<bool>,
    /// Fill an empty event-type catalog with the common payment event types on first start [default: true]
    #[arg(long, env = "HERALD_SEED_CATALOG")]
    pub seed_catalog: Option<bool>,
    /// Start with a demo account, two webhooks to a sink Herald hosts itself and a stream of sample events
    /// (some failing), and short retries; the data goes to ./herald-demo unless --data-dir says otherwise
    #[arg(long)]
    pub demo: bool,
}

/// The same settings as they may appear in the TOML file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    admin_token: Option<String>,
    public_url: Option<String>,
    retry_schedule: Option<String>,
    delivery_timeout: Option<String>,
    connect_timeout: Option<String>,
    max_in_flight: Option<usize>,
    webhook_limit: Option<u32>,
    max_body_bytes: Option<usize>,
    shutdown_grace: Option<String>,
    token_lifetime: Option<String>,
    seed_catalog: Option<bool>,
    allow_subnets: Option<String>,
    deliver_only_to_allowed: Option<bool>,
    https_only: Option<bool>,
    database_pool_size: Option<usize>,
    database_timeout: Option<String>,
    lease_duration: Option<String>,
    node_id: Option<String>,
    retention: Option<String>,
    disable_after: Option<String>,
    operator_url: Option<String>,
    operator_secret: Option<String>,
    master_key: Option<String>,
}

/// Everything `herald serve` runs with, defaults applied and values parsed.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub admin_token: Option<String>,
    pub public_url: Option<String>,
    pub retry_schedule: RetrySchedule,
    pub delivery_timeout: Duration,
    pub connect_timeout: Duration,
    pub max_in_flight: usize,
    pub webhook_limit: u32,
    pub max_body_bytes: usize,
    /// Largest body of `POST /v1/events/batch` (up to 1,000 events).
    pub max_batch_bytes: usize,
    /// Receivers' response bodies are kept up to this many bytes.
    pub max_response_body_bytes: usize,
    pub shutdown_grace: Duration,
    pub token_lifetime: Duration,
    /// Seed an empty catalog with common payment event types on start.
    pub seed_catalog: bool,
    /// Where deliveries may go.
    pub destinations: crate::deliver::destination::DestinationPolicy,
    pub database_pool: crate::store::postgres::PoolSettings,
    /// How long a claim on a delivery holds (at least four delivery timeouts).
    pub lease_duration: Duration,
    pub node_id: String,
    pub master_key: Option<String>,
    /// Age after which events and their deliveries and attempts are deleted; zero keeps everything.
    pub retention: Duration,
    /// How long a webhook may fail every attempt before it is disabled; zero never disables.
    pub disable_after: Duration,
    /// Where Herald's own events go, and the secret they are signed with.
    pub operator_url: Option<String>,
    pub operator_secret: Option<String>,
    /// How often the worker looks for due deliveries when nothing woke it.
    pub poll_interval: Duration,
    /// Run the demo (`herald serve --demo`).
    pub demo: bool,
}

impl Settings {
    /// The defaults, with the data kept in `data_dir`.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: data_dir.into(),
            database_url: None,
            admin_token: None,
            public_url: None,
            retry_schedule: RetrySchedule::default(),
            delivery_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_in_flight: 512,
            webhook_limit: 10,
            max_body_bytes: 256 * 1024,
            max_batch_bytes: 16 * 1024 * 1024,
            max_response_body_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(10),
            token_lifetime: Duration::from_secs(9 * 3600),
            seed_catalog: true,
            destinations: Default::default(),
            database_pool: Default::default(),
            lease_duration: Duration::from_secs(60),
            node_id: default_node_id(),
            master_key: None,
            retention: Duration::from_secs(30 * 86_400),
            disable_after: Duration::from_secs(5 * 86_400),
            operator_url: None,
            operator_secret: None,
            poll_interval: Duration::from_secs(1),
            demo: false,
        }
    }

    /// Merges flags and environment (already in `args`) over the file named by `--config` over defaults.
    pub fn resolve(args: ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let default_dir = if args.demo { "herald-demo" } else { "herald-data" };
        let mut settings = Self::with_data_dir(args.data_dir.or(file.data_dir).unwrap_or_else(|| default_dir.into()));
        settings.demo = args.demo;
        if args.demo {
            // Failures in the demo should run out of retries while someone is watching.
            settings.retry_schedule = crate::demo::RETRY_SCHEDULE.parse().expect("the demo schedule is valid");
        }
        if let Some(listen) = args.listen.or(file.listen) {
            settings.listen = listen;
        }
        settings.database_url = args.database_url.or(file.database_url);
        settings.admin_token = args.admin_token.or(file.admin_token);
        settings.public_url = args.public_url.or(file.public_url);
        if let Some(text) = args.retry_schedule.or(file.retry_schedule) {
            settings.retry_schedule =
                text.parse().map_err(|e: crate::retry::ScheduleError| invalid("retry_schedule", e))?;
        }
        let duration = |name, text: Option<String>, default| match text {
            Some(text) => humantime::parse_duration(&text).map_err(|e| invalid(name, e)),
            None => Ok(default),
        };
        settings.delivery_timeout =
            duration("delivery_timeout", args.delivery_timeout.or(file.delivery_timeout), settings.delivery_timeout)?;
        settings.connect_timeout =
            duration("connect_timeout", args.connect_timeout.or(file.connect_timeout), settings.connect_timeout)?;
        settings.shutdown_grace =
            duration("shutdown_grace", args.shutdown_grace.or(file.shutdown_grace), settings.shutdown_grace)?;
        settings.token_lifetime =
            duration("token_lifetime", args.token_lifetime.or(file.token_lifetime), settings.token_lifetime)?;
        settings.seed_catalog = args.seed_catalog.or(file.seed_catalog).unwrap_or(settings.seed_catalog);
        if let Some(text) = args.allow_subnets.or(file.allow_subnets) {
            settings.destinations.allow = crate::deliver::destination::DestinationPolicy::parse_subnets(&text)
                .map_err(|e| invalid("allow_subnets", e))?;
        }
        if let Some(size) = args.database_pool_size.or(file.database_pool_size) {
            settings.database_pool.max_connections = size.max(2);
        }
        let timeout = args.database_timeout.or(file.database_timeout);
        settings.database_pool.wait_timeout =
            duration("database_timeout", timeout, settings.database_pool.wait_timeout)?;
        settings.lease_duration =
            duration("lease_duration", args.lease_duration.or(file.lease_duration), settings.lease_duration)?;
        settings.master_key = args.master_key.or(file.master_key);
        if let Some(node) = args.node_id.or(file.node_id).filter(|n| !n.is_empty()) {
            settings.node_id = node;
        }
        settings.operator_url = args.operator_url.or(file.operator_url).filter(|url| !url.is_empty());
        settings.operator_secret = args.operator_secret.or(file.operator_secret).filter(|s| !s.is_empty());
        settings.disable_after = match args.disable_after.or(file.disable_after).as_deref() {
            Some("0") => Duration::ZERO,
            other => duration("disable_after", other.map(str::to_owned), settings.disable_after)?,
        };
        settings.retention = match args.retention.or(file.retention).as_deref() {
            Some("0") => Duration::ZERO,
            other => duration("retention", other.map(str::to_owned), settings.retention)?,
        };
        settings.destinations.only_allowed =
            args.deliver_only_to_allowed.or(file.deliver_only_to_allowed).unwrap_or(false);
        settings.destinations.https_only = args.https_only.or(file.https_only).unwrap_or(false);
        settings.max_in_flight = args.max_in_flight.or(file.max_in_flight).unwrap_or(settings.max_in_flight).max(1);
        settings.webhook_limit = args.webhook_limit.or(file.webhook_limit).unwrap_or(settings.webhook_limit);
        settings.max_body_bytes = args.max_body_bytes.or(file.max_body_bytes).unwrap_or(settings.max_body_bytes);
        Ok(settings)
    }

    /// The socket address to bind: `:PORT` means 127.0.0.1, so nothing is exposed by accident.
    pub fn bind_address(&self) -> String {
        match self.listen.strip_prefix(':') {
            Some(port) => format!("127.0.0.1:{port}"),
            None => self.listen.clone(),
        }
    }
}

/// `<host name>-<process id>`, so that attempt logs from several nodes can be told apart.
fn default_node_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let host = if host.is_empty() { "herald".to_owned() } else { host };
    format!("{host}-{}", std::process::id())
}

fn invalid(name: &'static str, error: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid { name, message: error.to_string() }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: display.clone(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse { path: display, message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        std::fs::write(
            &path,
            "listen = \":0\"\nretry_schedule = \"1s,2s\"\ndelivery_timeout = \"3s\"\nwebhook_limit = 3\n",
        )
        .unwrap();
        let args = ServeArgs { config: Some(path), webhook_limit: Some(7), ..ServeArgs::default() };
        let settings = Settings::resolve(args).unwrap();
        assert_eq!(settings.bind_address(), "127.0.0.1:0");
        assert_eq!(settings.retry_schedule.max_attempts(), 3);
        assert_eq!(settings.delivery_timeout, Duration::from_secs(3));
        assert_eq!(settings.webhook_limit, 7);
        assert_eq!(settings.data_dir, PathBuf::from("herald-data"));
    }

    #[test]
    fn bad_values_name_the_setting() {
        let args = ServeArgs { delivery_timeout: Some("soon".into()), ..ServeArgs::default() };
        let error = Settings::resolve(args).unwrap_err().to_string();
        assert!(error.starts_with("delivery_timeout:"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "colour = \"blue\"\n").unwrap();
        let error = Settings::resolve(ServeArgs { config: Some(path), ..ServeArgs::default() }).unwrap_err();
        assert!(matches!(error, ConfigError::Parse { .. }));
    }
}
