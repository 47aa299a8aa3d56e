//! Where the client subcommands connect and as whom: a `herald-client` connection per caller, and the one
//! place Herald's errors become the command's.
//!
//! The connection comes from flags, else `HERALD_*` variables, else a TOML file (`--cli-config`, default
//! `$XDG_CONFIG_HOME/herald/cli.toml` or `~/.config/herald/cli.toml`) with the keys `url`, `client_id`,
//! `client_secret` and `admin_token`. Merchant calls use Basic client credentials; operator calls the
//! admin token. Herald's error answers are shown as `status NAME: message (field: why)`.

use std::path::PathBuf;

use clap::Args;
use herald_client::{Herald, HeraldError, ResponseValue, types};
use serde::Deserialize;
use serde_json::Value;

/// Where `herald` finds Herald when no URL is given.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

#[derive(Args, Clone, Debug, Default)]
pub struct Connection {
    /// Herald's base URL [env: HERALD_URL] [default: http://127.0.0.1:8080]
    #[arg(long, env = "HERALD_URL", hide_env = true)]
    pub url: Option<String>,
    /// The merchant's client id
    #[arg(long, env = "HERALD_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The merchant's client secret
    #[arg(long, env = "HERALD_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// The operator's admin token
    #[arg(long, env = "HERALD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// A TOML file with url, client_id, client_secret and admin_token
    #[arg(long, env = "HERALD_CLI_CONFIG")]
    pub cli_config: Option<PathBuf>,
}

/// Why a client command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Missing(&'static str),
    #[error("cannot reach Herald at {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{status} {name}: {message}{details}")]
    Refused { status: u16, name: String, message: String, details: String },
    #[error("Herald's answer was not what this version expects: {0}")]
    Unexpected(String),
    #[error("cannot connect: {0}")]
    Connection(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the config file {path} is not valid: {message}")]
    Config { path: String, message: String },
    #[error(
        "could not forward {event_id} ({reason}); the listener is kept: run the same command again to resume from it"
    )]
    NotForwarded { event_id: String, reason: String },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<HeraldError> for CliError {
    fn from(error: HeraldError) -> Self {
        Self::Connection(error.to_string())
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConnection {
    url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    admin_token: Option<String>,
}

fn default_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("herald").join("cli.toml"))
}

impl Connection {
    /// Fills what flags and variables left out from the config file.
    fn resolved(mut self) -> Result<Self, CliError> {
        let (path, explicit) = match self.cli_config.clone() {
            Some(path) => (Some(path), true),
            None => (default_config_path(), false),
        };
        let file = match path {
            Some(path) if explicit || path.exists() => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| CliError::Io { what: format!("cannot read {}", path.display()), source })?;
                toml::from_str::<FileConnection>(&text)
                    .map_err(|e| CliError::Config { path: path.display().to_string(), message: e.to_string() })?
            }
            _ => FileConnection::default(),
        };
        self.url = self.url.or(file.url);
        self.client_id = self.client_id.or(file.client_id);
        self.client_secret = self.client_secret.or(file.client_secret);
        self.admin_token = self.admin_token.or(file.admin_token);
        Ok(self)
    }
}

/// A connection to one Herald, through the client library: as the merchant, as the operator, or both.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client_id: Option<String>,
    merchant: Option<Herald>,
    operator: Option<Herald>,
    /// For requests that are not Herald's API (forwarding to a local URL).
    plain: reqwest::Client,
}

impl Api {
    pub fn connect(connection: Connection) -> Result<Self, CliError> {
        let connection = connection.resolved()?;
        let base = connection.url.unwrap_or_else(|| DEFAULT_URL.to_owned()).trim_end_matches('/').to_owned();
        let merchant = match (&connection.client_id, &connection.client_secret) {
            (Some(id), Some(secret)) => Some(Herald::merchant(&base, id, secret)?),
            _ => None,
        };
        let operator = connection.admin_token.as_deref().map(|token| Herald::operator(&base, token)).transpose()?;
        let plain = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::Unexpected(e.to_string()))?;
        Ok(Self { base, client_id: connection.client_id, merchant, operator, plain })
    }

    pub fn has_admin_token(&self) -> bool {
        self.operator.is_some()
    }

    /// Herald's API as the merchant.
    pub fn merchant(&self) -> Result<&Herald, CliError> {
        self.merchant.as_ref().ok_or(CliError::Missing(
            "this needs the merchant's credentials: --client-id and --client-secret (or HERALD_CLIENT_ID and \
             HERALD_CLIENT_SECRET)",
        ))
    }

    /// Herald's API as the operator.
    pub fn operator(&self) -> Result<&Herald, CliError> {
        self.operator
            .as_ref()
            .ok_or(CliError::Missing("this needs the operator's admin token: --admin-token (or HERALD_ADMIN_TOKEN)"))
    }

    /// A plain request (to a local receiver, say).
    pub fn plain(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.plain.request(method, url)
    }

    /// The error of a failed call, with Herald's base URL where it could not be reached.
    pub fn failed(&self, error: impl Into<HeraldError>) -> CliError {
        match error.into() {
            HeraldError::Refused(refusal) => {
                let details = refusal.details_line();
                CliError::Refused { status: refusal.status, name: refusal.name, message: refusal.message, details }
            }
            HeraldError::Unreachable(source) => CliError::Unreachable { url: self.base.clone(), source },
            other => CliError::Unexpected(other.to_string()),
        }
    }

    /// A request body of the generated API's type, from JSON.
    pub fn body<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, CliError> {
        serde_json::from_value(value).map_err(|e| CliError::Invalid(e.to_string()))
    }

    /// The answer of a call as JSON, or its error.
    pub fn json<T: serde::Serialize>(
        &self,
        answer: Result<ResponseValue<T>, herald_client::Error<types::ErrorBody>>,
    ) -> Result<Value, CliError> {
        let answer = answer.map_err(|e| self.failed(e))?.into_inner();
        serde_json::to_value(answer).map_err(|e| CliError::Unexpected(e.to_string()))
    }
}

/// Prints rows as aligned columns under a header, for people.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// A string field of a JSON value, or "".
pub fn field(value: &Value, name: &str) -> String {
    value[name].as_str().unwrap_or_default().to_owned()
}
