//! Settings for `herald serve`, each declared once in [`ServeArgs`]: the field is the setting, its
//! attribute gives the flag, the `HERALD_*` environment variable and the default, and its name is the key
//! in the optional TOML file (`--config`). A flag wins over the variable, the variable over the file, the
//! file over the default: the file's values become the defaults of a second parse
//! ([`with_file_defaults`]), so clap checks them exactly as it checks flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Command, FromArgMatches};

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
}

/// A duration such as `15s`, `5m` or `30d`.
fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// A duration of a second or more: a partition's span (shorter spans would make partitions faster than
/// the retention job can keep up with).
fn span(text: &str) -> Result<Duration, String> {
    let span = duration(text)?;
    if span < Duration::from_secs(1) { Err("a partition span is at least 1s".into()) } else { Ok(span) }
}

/// A duration, or `0` for never.
fn duration_or_never(text: &str) -> Result<Duration, String> {
    if text == "0" { Ok(Duration::ZERO) } else { duration(text) }
}

/// A number of bytes, with an optional unit: `64MiB`, `1GiB`, `500kB`, `0`.
fn byte_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a size such as 64MiB"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => return Err(format!("unknown unit {other:?}: use B, kB, KiB, MB, MiB, GB or GiB")),
    };
    number.checked_mul(scale).ok_or_else(|| format!("{text:?} is too large"))
}

/// A share from 0 to 1, such as `0.1`.
fn share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share from 0 to 1, such as 0.1")),
    }
}

/// Comma-separated subnets, parsed.
#[derive(Clone, Debug, Default)]
pub struct Subnets(pub Vec<ipnet::IpNet>);

fn egress_proxy(text: &str) -> Result<crate::deliver::egress::EgressProxy, String> {
    crate::deliver::egress::EgressProxy::parse(text)
}

fn subnets(text: &str) -> Result<Subnets, String> {
    crate::deliver::destination::DestinationPolicy::parse_subnets(text).map(Subnets)
}

/// Every setting of `herald serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// A TOML file with any of the settings below (keys are the flag names with '_' for '-').
    #[arg(long, env = "HERALD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address of the API; ":0" picks a free port on 127.0.0.1
    #[arg(long, env = "HERALD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Where the SQLite database, the admin token and the master key live [default: ./herald-data, or
    /// ./herald-demo for the demo]
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
    /// Delays between attempts after the first [default: 5s,5m,30m,2h,5h,10h,14h,20h,24h; the demo's are
    /// shorter]
    #[arg(long, env = "HERALD_RETRY_SCHEDULE")]
    pub retry_schedule: Option<RetrySchedule>,
    /// Total time one attempt may take
    #[arg(long, env = "HERALD_DELIVERY_TIMEOUT", default_value = "15s", value_parser = duration)]
    pub delivery_timeout: Duration,
    /// Time to establish a connection
    #[arg(long, env = "HERALD_CONNECT_TIMEOUT", default_value = "5s", value_parser = duration)]
    pub connect_timeout: Duration,
    /// Most attempts in flight at once
    #[arg(long, env = "HERALD_MAX_IN_FLIGHT", default_value_t = 512)]
    pub max_in_flight: usize,
    /// Most webhooks per account
    #[arg(long, env = "HERALD_WEBHOOK_LIMIT", default_value_t = 10)]
    pub webhook_limit: u32,
    /// Largest request body accepted by the API, in bytes
    #[arg(long, env = "HERALD_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// Most client connections open at once; more wait in the listening socket's backlog until one ends
    #[arg(long, env = "HERALD_MAX_CONNECTIONS", default_value_t = 1000)]
    pub max_connections: usize,
    /// A connection that has not sent a whole request head this long after it opened or after its last
    /// answer is closed: idle keep-alive connections and slowly sent headers alike
    #[arg(long, env = "HERALD_IDLE_TIMEOUT", default_value = "30s", value_parser = duration)]
    pub idle_timeout: Duration,
    /// Time for a request's body to arrive in full; a slower one is answered 408 and its connection closed
    #[arg(long, env = "HERALD_BODY_TIMEOUT", default_value = "30s", value_parser = duration)]
    pub body_timeout: Duration,
    /// Most listener streams (`herald listen`) open at once on this node; more are answered 503
    #[arg(long, env = "HERALD_MAX_STREAMS", default_value_t = 256)]
    pub max_streams: usize,
    /// Failed authentications allowed in a row for one client id (or the admin token) before it is
    /// answered 429 for a while; "0" never throttles by credential
    #[arg(long, env = "HERALD_AUTH_FAILURES", default_value_t = 10)]
    pub auth_failures: u32,
    /// The same for one source address (behind a proxy every caller shares the proxy's); "0" never
    #[arg(long, env = "HERALD_AUTH_FAILURES_PER_ADDRESS", default_value_t = 50)]
    pub auth_failures_per_address: u32,
    /// The time in which those allowances come back in full (one failure back every window/allowance)
    #[arg(long, env = "HERALD_AUTH_FAILURE_WINDOW", default_value = "1m", value_parser = duration)]
    pub auth_failure_window: Duration,
    /// How long in-flight attempts may run on shutdown
    #[arg(long, env = "HERALD_SHUTDOWN_GRACE", default_value = "10s", value_parser = duration)]
    pub shutdown_grace: Duration,
    /// How long an OAuth access token lives
    #[arg(long, env = "HERALD_TOKEN_LIFETIME", default_value = "9h", value_parser = duration)]
    pub token_lifetime: Duration,
    /// How long an idempotency key replays its first answer; after that the key is forgotten and may be
    /// used again
    #[arg(long, env = "HERALD_IDEMPOTENCY_KEY_LIFETIME", default_value = "24h", value_parser = duration)]
    pub idempotency_key_lifetime: Duration,
    /// Connections in the PostgreSQL pool (at least 2)
    #[arg(long, env = "HERALD_DATABASE_POOL_SIZE", default_value_t = 16)]
    pub database_pool_size: usize,
    /// How long a request waits for a database connection before answering 503
    #[arg(long, env = "HERALD_DATABASE_TIMEOUT", default_value = "5s", value_parser = duration)]
    pub database_timeout: Duration,
    /// How long a claim on a delivery holds; a dead node's claims come back after this
    #[arg(long, env = "HERALD_LEASE_DURATION", default_value = "60s", value_parser = duration)]
    pub lease_duration: Duration,
    /// Base64 of 32 random bytes that seal webhook secrets; every node sharing a database needs the same
    /// [default: generated in the data directory]
    #[arg(long, env = "HERALD_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// This process's name in the attempt log [default: host name and process id]
    #[arg(long, env = "HERALD_NODE_ID")]
    pub node_id: Option<String>,
    /// With the embedded database, refuse new events (503) while less than this is free on the data
    /// directory's filesystem, keeping room for the attempts of deliveries already accepted; "0" never
    #[arg(long, env = "HERALD_DISK_RESERVE", default_value = "64MiB", value_parser = byte_size)]
    pub disk_reserve: u64,
    /// Refuse new events (503) while this process's resident memory is above this; "0" never
    #[arg(long, env = "HERALD_MEMORY_LIMIT", default_value = "0", value_parser = byte_size)]
    pub memory_limit: u64,
    /// Delete events, deliveries and attempts older than this; "0" keeps everything
    #[arg(long, env = "HERALD_RETENTION", default_value = "30d", value_parser = duration_or_never)]
    pub retention: Duration,
    /// On PostgreSQL, how much time one partition of events, deliveries and attempts holds; retention
    /// drops a partition once its span is past the retention period
    #[arg(long, env = "HERALD_PARTITION_SPAN", default_value = "1d", value_parser = span)]
    pub partition_span: Duration,
    /// Disable a webhook whose every attempt has failed for this long; "0" never
    #[arg(long, env = "HERALD_DISABLE_AFTER", default_value = "5d", value_parser = duration_or_never)]
    pub disable_after: Duration,
    /// Where Herald posts its own events (webhook.failing, webhook.recovered, webhook.disabled,
    /// delivery.exhausted) [default: nowhere]
    #[arg(long, env = "HERALD_OPERATOR_URL")]
    pub operator_url: Option<String>,
    /// The whsec_ secret those events are signed with [default: made on first start and shown once]
    #[arg(long, env = "HERALD_OPERATOR_SECRET", hide_env_values = true)]
    pub operator_secret: Option<String>,
    /// Subnets that deliveries may reach although private or loopback, e.g. "127.0.0.0/8,10.1.0.0/16"
    #[arg(long, env = "HERALD_ALLOW_SUBNETS", default_value = "", value_parser = subnets)]
    pub allow_subnets: Subnets,
    /// Deliver only inside the allowed subnets (a sandbox that never calls out)
    #[arg(long, env = "HERALD_DELIVER_ONLY_TO_ALLOWED", default_value_t = false, action = clap::ArgAction::Set)]
    pub deliver_only_to_allowed: bool,
    /// Send every HTTP delivery through this HTTP CONNECT proxy, e.g. "http://egress.internal:3128"; the
    /// guard still decides what may be reached [default: direct]
    #[arg(long, env = "HERALD_EGRESS_PROXY", value_parser = egress_proxy, hide_env_values = true)]
    pub egress_proxy: Option<crate::deliver::egress::EgressProxy>,
    /// Export spans of publishes and delivery attempts over OTLP/HTTP (protobuf) to this collector, e.g.
    /// "http://otel-collector:4318" [default: no export]
    #[arg(long, env = "HERALD_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// The share of traces Herald starts that are exported, 0 to 1; a publish's traceparent decides for
    /// its own trace
    #[arg(long, env = "HERALD_OTLP_SAMPLING", default_value_t = 1.0, value_parser = share)]
    pub otlp_sampling: f64,
    /// The service.name of the exported spans
    #[arg(long, env = "HERALD_OTLP_SERVICE_NAME", default_value = "herald")]
    pub otlp_service_name: String,
    /// Accept and deliver to https:// webhook URLs only
    #[arg(long, env = "HERALD_HTTPS_ONLY", default_value_t = false, action = clap::ArgAction::Set)]
    pub https_only: bool,
    /// Fill an empty event-type catalog with the common payment event types on first start
    #[arg(long, env = "HERALD_SEED_CATALOG", default_value_t = true, action = clap::ArgAction::Set)]
    pub seed_catalog: bool,
    /// Record every merchant API request (kept, with its bodies redacted, as long as events are)
    #[arg(long, env = "HERALD_REQUEST_LOGS", default_value_t = true, action = clap::ArgAction::Set)]
    pub request_logs: bool,
    /// Start with a demo account, two webhooks to a sink Herald hosts itself and a stream of sample events
    /// (some failing), and short retries; the data goes to ./herald-demo unless --data-dir says otherwise
    #[arg(long)]
    pub demo: bool,
}

impl ServeArgs {
    /// The defaults alone: an empty command line, the environment left out.
    pub fn defaults() -> Self {
        let command = Self::augment_args(Command::new("herald").no_binary_name(true))
            .mut_args(|arg| arg.env(None::<&'static str>));
        let matches = command.try_get_matches_from(std::iter::empty::<String>()).expect("the defaults parse");
        Self::from_arg_matches(&matches).expect("the defaults are settings")
    }
}

/// `command` (whose arguments include [`ServeArgs`]) with the values of the TOML file at `path` as the
/// defaults of the settings it names. A key that names no setting is an error, as a flag would be.
pub fn with_file_defaults(mut command: Command, path: &Path) -> Result<Command, ConfigError> {
    let display = path.display().to_string();
    let parse_error = |message: String| ConfigError::Parse { path: display.clone(), message };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: display.clone(), source })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| parse_error(e.to_string()))?;
    for (key, value) in table {
        let known = command.get_arguments().any(|arg| arg.get_id().as_str() == key && arg.get_long().is_some());
        if !known || key == "config" || key == "demo" {
            return Err(parse_error(format!("unknown setting `{key}`")));
        }
        let value = match value {
            toml::Value::String(text) => text,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                let kind = other.type_str();
                return Err(parse_error(format!("`{key}` must be a string, a number or true/false, not {kind}")));
            }
        };
        command = command.mut_arg(key, |arg| arg.default_value(value));
    }
    Ok(command)
}

/// Everything `herald serve` runs with, parsed, with what follows from the settings worked out.
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
    /// What the HTTP server allows its clients.
    pub server: crate::server::ServerLimits,
    /// Time for a request body to arrive in full.
    pub body_timeout: Duration,
    /// Listener streams open at once.
    pub max_streams: usize,
    /// How failed authentications are throttled.
    pub auth_throttle: crate::auth_throttle::ThrottleRules,
    /// Largest body of `POST /v1/events/batch` (up to 1,000 events).
    pub max_batch_bytes: usize,
    /// Receivers' response bodies are kept up to this many bytes.
    pub max_response_body_bytes: usize,
    pub shutdown_grace: Duration,
    pub token_lifetime: Duration,
    /// How long an idempotency key replays its first answer.
    pub idempotency_key_lifetime: Duration,
    /// Seed an empty catalog with common payment event types on start.
    pub seed_catalog: bool,
    /// Record merchant API requests.
    pub request_logs: bool,
    /// Where deliveries may go.
    pub destinations: crate::deliver::destination::DestinationPolicy,
    pub egress_proxy: Option<crate::deliver::egress::EgressProxy>,
    /// Span export.
    pub otlp: crate::telemetry::OtlpSettings,
    pub database_pool: crate::store::postgres::PoolSettings,
    /// How long a claim on a delivery holds (at least four delivery timeouts).
    pub lease_duration: Duration,
    pub node_id: String,
    pub master_key: Option<String>,
    /// Age after which events and their deliveries and attempts are deleted; zero keeps everything.
    pub retention: Duration,
    /// Free bytes kept on the embedded database's filesystem for work already accepted.
    pub disk_reserve: u64,
    /// Resident memory above which new events are refused; zero for no limit.
    pub memory_limit: u64,
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
        Self::resolve(ServeArgs { data_dir: Some(data_dir.into()), ..ServeArgs::defaults() })
    }

    /// The settings `args` give, with the demo's own data directory and retries when it runs.
    pub fn resolve(args: ServeArgs) -> Self {
        let default_dir = if args.demo { "herald-demo" } else { "herald-data" };
        // Failures in the demo should run out of retries while someone is watching.
        let default_retries = match args.demo {
            true => crate::demo::RETRY_SCHEDULE.parse().expect("the demo schedule is valid"),
            false => RetrySchedule::default(),
        };
        let non_empty = |text: Option<String>| text.filter(|t| !t.is_empty());
        Self {
            listen: args.listen,
            data_dir: args.data_dir.unwrap_or_else(|| default_dir.into()),
            database_url: args.database_url,
            admin_token: args.admin_token,
            public_url: args.public_url,
            retry_schedule: args.retry_schedule.unwrap_or(default_retries),
            delivery_timeout: args.delivery_timeout,
            connect_timeout: args.connect_timeout,
            max_in_flight: args.max_in_flight.max(1),
            webhook_limit: args.webhook_limit,
            max_body_bytes: args.max_body_bytes,
            server: crate::server::ServerLimits {
                max_connections: args.max_connections.max(1),
                idle_timeout: args.idle_timeout,
            },
            body_timeout: args.body_timeout,
            max_streams: args.max_streams,
            auth_throttle: crate::auth_throttle::ThrottleRules {
                per_credential: args.auth_failures,
                per_address: args.auth_failures_per_address,
                window: args.auth_failure_window,
            },
            max_batch_bytes: 16 * 1024 * 1024,
            max_response_body_bytes: 16 * 1024,
            shutdown_grace: args.shutdown_grace,
            token_lifetime: args.token_lifetime,
            idempotency_key_lifetime: args.idempotency_key_lifetime,
            seed_catalog: args.seed_catalog,
            request_logs: args.request_logs,
            destinations: crate::deliver::destination::DestinationPolicy {
                allow: args.allow_subnets.0,
                only_allowed: args.deliver_only_to_allowed,
                https_only: args.https_only,
                hosts: Vec::new(),
            },
            egress_proxy: args.egress_proxy,
            otlp: crate::telemetry::OtlpSettings {
                endpoint: non_empty(args.otlp_endpoint),
                sampling: args.otlp_sampling,
                service_name: args.otlp_service_name,
            },
            database_pool: crate::store::postgres::PoolSettings {
                max_connections: args.database_pool_size.max(2),
                wait_timeout: args.database_timeout,
                partition_span: args.partition_span,
            },
            lease_duration: args.lease_duration,
            node_id: non_empty(args.node_id).unwrap_or_else(default_node_id),
            master_key: args.master_key,
            retention: args.retention,
            disk_reserve: args.disk_reserve,
            memory_limit: args.memory_limit,
            disable_after: args.disable_after,
            operator_url: non_empty(args.operator_url),
            operator_secret: non_empty(args.operator_secret),
            poll_interval: Duration::from_secs(1),
            demo: args.demo,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `herald serve` with `flags`, the file named by `--config` under them, the environment left out, as
    /// `main` parses it; the error as it would be printed.
    fn parse(flags: &[&str]) -> Result<Settings, String> {
        let command = ServeArgs::augment_args(Command::new("serve").no_binary_name(true))
            .mut_args(|arg| arg.env(None::<&'static str>));
        let read = |command: Command| {
            let matches = command.try_get_matches_from(flags).map_err(|e| e.to_string())?;
            ServeArgs::from_arg_matches(&matches).map_err(|e| e.to_string())
        };
        let first = read(command.clone())?;
        let command = match &first.config {
            Some(path) => with_file_defaults(command, path).map_err(|e| e.to_string())?,
            None => command,
        };
        Ok(Settings::resolve(read(command)?))
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        let file = "listen = \":0\"\nretry_schedule = \"1s,2s\"\ndelivery_timeout = \"3s\"\nwebhook_limit = 3\n\
                    https_only = true\nretention = \"0\"\n";
        std::fs::write(&path, file).unwrap();
        let settings = parse(&["--config", path.to_str().unwrap(), "--webhook-limit", "7"]).unwrap();
        assert_eq!(settings.bind_address(), "127.0.0.1:0");
        assert_eq!(settings.retry_schedule.max_attempts(), 3);
        assert_eq!(settings.delivery_timeout, Duration::from_secs(3));
        assert_eq!(settings.webhook_limit, 7);
        assert!(settings.destinations.https_only);
        assert_eq!(settings.retention, Duration::ZERO);
        assert_eq!(settings.data_dir, PathBuf::from("herald-data"));
        assert_eq!(settings.connect_timeout, Duration::from_secs(5), "the default where neither says");
    }

    #[test]
    fn the_defaults_are_the_declared_ones() {
        let settings = Settings::with_data_dir("/tmp/x");
        assert_eq!(settings.listen, "127.0.0.1:8080");
        assert_eq!(settings.delivery_timeout, Duration::from_secs(15));
        assert_eq!(settings.max_in_flight, 512);
        assert_eq!(settings.retention, Duration::from_secs(30 * 86_400));
        assert!(settings.seed_catalog && !settings.destinations.https_only);
        assert!(settings.destinations.allow.is_empty());
        assert_eq!(settings.database_pool.max_connections, 16);
        assert_eq!(settings.disk_reserve, 64 << 20);
    }

    #[test]
    fn span_export_is_off_unless_an_endpoint_is_set_and_sampling_is_a_share() {
        let settings = parse(&[]).unwrap();
        assert_eq!((settings.otlp.endpoint, settings.otlp.sampling), (None, 1.0));
        assert_eq!(settings.otlp.service_name, "herald");
        let settings = parse(&["--otlp-endpoint", "http://127.0.0.1:4318", "--otlp-sampling", "0.1"]).unwrap();
        assert_eq!(settings.otlp.endpoint.as_deref(), Some("http://127.0.0.1:4318"));
        assert_eq!(settings.otlp.sampling, 0.1);
        for bad in ["1.5", "2", "ten percent"] {
            let error = parse(&["--otlp-sampling", bad]).unwrap_err();
            assert!(error.contains("--otlp-sampling"), "{error}");
        }
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(byte_size("0"), Ok(0));
        assert_eq!(byte_size("512"), Ok(512));
        assert_eq!(byte_size("2MiB"), Ok(2 << 20));
        assert_eq!(byte_size("3 GB"), Ok(3_000_000_000));
        assert!(byte_size("lots").is_err());
        assert!(byte_size("5 parsecs").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn bad_values_name_the_setting() {
        let error = parse(&["--delivery-timeout", "soon"]).unwrap_err();
        assert!(error.contains("--delivery-timeout"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "colour = \"blue\"\n").unwrap();
        let error = parse(&["--config", path.to_str().unwrap()]).unwrap_err();
        assert!(error.contains("is not valid: unknown setting `colour`"), "{error}");
        std::fs::write(&path, "delivery_timeout = \"soon\"\n").unwrap();
        let error = parse(&["--config", path.to_str().unwrap()]).unwrap_err();
        assert!(error.contains("--delivery-timeout"), "a bad value in the file is named too: {error}");
    }
}
