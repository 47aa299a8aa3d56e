//! Where the client subcommands connect and as whom, and the HTTP calls they share.
//!
//! The connection comes from flags, else `HERALD_*` variables, else a TOML file (`--cli-config`, default
//! `$XDG_CONFIG_HOME/herald/cli.toml` or `~/.config/herald/cli.toml`) with the keys `url`, `client_id`,
//! `client_secret` and `admin_token`. Merchant calls use Basic client credentials; operator calls the
//! admin token. Herald's error answers are shown as `status NAME: message (field: why)`.

use std::path::PathBuf;

use clap::Args;
use reqwest::Method;
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
    #[error("Herald's answer was not what this version expects")]
    Unexpected(#[source] reqwest::Error),
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

/// A connection to one Herald.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base: String,
    pub client_id: Option<String>,
    client_secret: Option<String>,
    admin_token: Option<String>,
}

impl Api {
    pub fn connect(connection: Connection) -> Result<Self, CliError> {
        let connection = connection.resolved()?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(CliError::Unexpected)?;
        let base = connection.url.unwrap_or_else(|| DEFAULT_URL.to_owned()).trim_end_matches('/').to_owned();
        Ok(Self {
            http,
            base,
            client_id: connection.client_id,
            client_secret: connection.client_secret,
            admin_token: connection.admin_token,
        })
    }

    pub fn has_admin_token(&self) -> bool {
        self.admin_token.is_some()
    }

    pub fn has_merchant(&self) -> bool {
        self.client_id.is_some() && self.client_secret.is_some()
    }

    /// A request as the merchant.
    pub fn merchant(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, CliError> {
        let (Some(id), Some(secret)) = (&self.client_id, &self.client_secret) else {
            return Err(CliError::Missing(
                "this needs the merchant's credentials: --client-id and --client-secret (or HERALD_CLIENT_ID and \
                 HERALD_CLIENT_SECRET)",
            ));
        };
        Ok(self.http.request(method, format!("{}{path}", self.base)).basic_auth(id, Some(secret)))
    }

    /// A request as the operator.
    pub fn operator(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, CliError> {
        let Some(token) = &self.admin_token else {
            return Err(CliError::Missing(
                "this needs the operator's admin token: --admin-token (or HERALD_ADMIN_TOKEN)",
            ));
        };
        Ok(self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token))
    }

    /// A plain request (to a local receiver, say).
    pub fn plain(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends and returns the answer, or Herald's refusal as an error.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, CliError> {
        let response =
            request.send().await.map_err(|source| CliError::Unreachable { url: self.base.clone(), source })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let details: Vec<String> = body["details"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| format!("{}: {}", text(&d["field"]), text(&d["description"])))
            .collect();
        let details = if details.is_empty() { String::new() } else { format!(" ({})", details.join("; ")) };
        Err(CliError::Refused { status, name: text(&body["name"]), message: text(&body["message"]), details })
    }

    /// Sends and parses a JSON answer (`null` for an empty one).
    pub async fn json(&self, request: reqwest::RequestBuilder) -> Result<Value, CliError> {
        let response = self.send(request).await?;
        let bytes = response.bytes().await.map_err(CliError::Unexpected)?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
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
