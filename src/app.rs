//! Wiring only: open the store, build the worker and the API over it, run both until shutdown.
//!
//! [`Application::build`] takes an already-bound listener, so tests bind port 0 and read the address back.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::{self, ApiContext, ApiLimits};
use crate::config::Settings;
use crate::deliver::send::SendLimits;
use crate::deliver::{Deliverer, DeliveryConfig};
use crate::demo::{self, DemoLogin};
use crate::domain::{AccountId, WebhookUrl};
use crate::keyring::{AdminToken, KEY_FINGERPRINT, Keyring, KeyringError};
use crate::metrics::Metrics;
use crate::notices::{self, NoticeReceiver, NoticeSetupError, Notices};
use crate::paypal_identity::PaypalIdentities;
use crate::publish::{Publisher, PublisherParts};
use crate::server::ServerLimits;
use crate::service::{Services, WebhookRules};
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};

/// Why Herald could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot prepare the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the database URL {0:?} is not supported: use postgres://…, or leave it unset for the embedded SQLite database"
    )]
    UnsupportedDatabase(String),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error(
        "this node's master key is not the one the database's secrets were sealed with; give every node that \
         shares the database the same HERALD_MASTER_KEY"
    )]
    KeyMismatch,
    #[error("cannot open the store")]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client")]
    HttpClient(#[from] reqwest::Error),
    #[error("cannot prepare the delivery sender")]
    Sender(#[from] crate::deliver::send::SenderError),
    #[error("cannot read the listening address")]
    Listener(#[source] std::io::Error),
    #[error("HERALD_OPERATOR_URL is not a usable URL: {0}")]
    OperatorUrl(String),
    #[error("cannot prepare the operator's notices")]
    Notices(#[from] NoticeSetupError),
    #[error("cannot start span export")]
    Telemetry(#[from] crate::telemetry::TelemetryError),
    #[error("cannot prepare the demo")]
    Demo(#[source] demo::DemoError),
}

/// A built, not yet running, Herald.
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    router: axum::Router,
    server: ServerLimits,
    deliverer: Deliverer,
    store: Arc<dyn Store>,
    admin_token: AdminToken,
    retention: crate::retention::RetentionRules,
    /// Publishes the operator's notices, when an operator URL is configured.
    operator: Option<(Arc<Publisher>, NoticeReceiver)>,
    made_operator_secret: Option<String>,
    /// Ends the API's event streams when Herald stops.
    streams_stop: CancellationToken,
    /// The demo's account, login and publisher, with `--demo`.
    demo: Option<(AccountId, DemoLogin, Arc<Publisher>)>,
    /// Writes the request log (or, with it off, the keys' last use).
    recorder: crate::request_log::RecorderTask,
    /// Sends the spans, with `HERALD_OTLP_ENDPOINT`.
    exporter: Option<crate::telemetry::Exporter>,
}

impl Application {
    pub async fn build(mut settings: Settings, listener: TcpListener) -> Result<Self, StartupError> {
        let data_dir = &settings.data_dir;
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StartupError::DataDir { path: data_dir.display().to_string(), source })?;

        let address = listener.local_addr().map_err(StartupError::Listener)?;
        // The demo's webhooks deliver to this process over loopback, which must then be allowed.
        let demo_base = format!("http://127.0.0.1:{}", address.port());
        if settings.demo {
            settings.destinations.allow.push(ipnet::IpNet::from(std::net::IpAddr::from([127, 0, 0, 1])));
        }
        let keyring = Arc::new(Keyring::load_or_create(settings.master_key.as_deref(), data_dir)?);
        let admin_token = AdminToken::resolve(settings.admin_token.clone(), data_dir)?;
        let store = open_store(&settings).await?;
        let fingerprint = keyring.fingerprint();
        if store.insert_meta_if_absent(KEY_FINGERPRINT, fingerprint.to_vec()).await? != fingerprint {
            return Err(StartupError::KeyMismatch);
        }
        if settings.seed_catalog {
            crate::catalog::seed_if_empty(store.as_ref()).await?;
        }
        let demo_account = match settings.demo {
            true => Some(demo::prepare(store.as_ref(), &keyring, &demo_base).await.map_err(StartupError::Demo)?),
            false => None,
        };
        let public_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{address}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        let (notices, notice_receiver, made_operator_secret) = match &settings.operator_url {
            Some(url) => {
                let url = WebhookUrl::parse(url).map_err(|e| StartupError::OperatorUrl(e.to_string()))?;
                let secret = settings.operator_secret.as_deref();
                let (notices, receiver, made) = notices::prepare(store.as_ref(), &keyring, url, secret).await?;
                (notices, Some(receiver), made)
            }
            None => (Notices::default(), None, None),
        };
        let (telemetry, exporter) = crate::telemetry::Telemetry::start(&settings.otlp)?;
        let delivery = DeliveryConfig { notices, telemetry: telemetry.clone(), ..delivery_config(&settings) };
        let lease_duration = delivery.lease_duration;
        let paypal = Arc::new(PaypalIdentities::new(store.clone(), keyring.clone(), public_url.clone()));
        let metrics = Arc::new(Metrics::default());
        let (deliverer, queue) =
            Deliverer::new(store.clone(), keyring.clone(), paypal.clone(), metrics.clone(), delivery)?;
        let parts = PublisherParts {
            metrics: metrics.clone(),
            keyring: keyring.clone(),
            paypal: paypal.clone(),
            queue,
            sender: deliverer.sender(),
            public_url: public_url.clone(),
            lease_duration,
            idempotency_lifetime: settings.idempotency_key_lifetime,
            telemetry,
        };
        let publisher = Arc::new(Publisher::new(store.clone(), parts));
        let streams_stop = CancellationToken::new();
        let services = Services {
            store: store.clone(),
            keyring,
            paypal,
            publisher: publisher.clone(),
            rules: WebhookRules {
                webhooks_per_account: settings.webhook_limit,
                https_only: settings.destinations.https_only,
            },
        };
        let (request_logs, recorder) = crate::request_log::RequestRecorder::new(store.clone(), settings.request_logs);
        let context = ApiContext {
            request_logs,
            services,
            metrics,
            admin_token_digest: api::state::digest(admin_token.value()),
            public_url,
            limits: ApiLimits {
                max_body_bytes: settings.max_body_bytes,
                max_batch_bytes: settings.max_batch_bytes,
                token_lifetime: settings.token_lifetime,
                body_timeout: settings.body_timeout,
            },
            memory: crate::memory_budget::MemoryBudget::new(settings.memory_limit),
            auth_throttle: crate::auth_throttle::AuthThrottle::new(settings.auth_throttle),
            streams: Arc::new(tokio::sync::Semaphore::new(settings.max_streams)),
            shutdown: streams_stop.clone(),
        };
        let state: api::AppState = Arc::new(context);
        let recording = axum::middleware::from_fn_with_state(state.clone(), api::request_log::record);
        let mut router =
            api::fallbacks(api::router(&state).merge(crate::dashboard::router())).layer(recording).with_state(state);
        if settings.demo {
            router = router.merge(demo::sink());
        }
        let router = router.layer(axum::middleware::from_fn(api::request_id::tag));
        let demo = demo_account.map(|(account, login)| (account, login, publisher.clone()));
        let retention = crate::retention::RetentionRules {
            history: settings.retention,
            idempotency_keys: settings.idempotency_key_lifetime,
        };
        let operator = notice_receiver.map(|receiver| (publisher, receiver));
        Ok(Self {
            listener,
            address,
            router,
            server: ServerLimits {
                max_connections: crate::server::connection_cap(settings.server.max_connections, settings.max_in_flight),
                ..settings.server
            },
            deliverer,
            store,
            admin_token,
            retention,
            operator,
            made_operator_secret,
            streams_stop,
            demo,
            recorder,
            exporter,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    pub fn admin_token(&self) -> &AdminToken {
        &self.admin_token
    }

    /// The operator webhook's secret, when this start made it (to be shown once).
    pub fn made_operator_secret(&self) -> Option<&str> {
        self.made_operator_secret.as_deref()
    }

    /// The demo account's credentials, with `--demo`.
    pub fn demo_login(&self) -> Option<&DemoLogin> {
        self.demo.as_ref().map(|(_, login, _)| login)
    }

    /// Serves the API and delivers until `shutdown`; then stops accepting requests, lets in-flight
    /// attempts finish (bounded by the shutdown grace) and returns.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let delivering = tokio::spawn(self.deliverer.run(shutdown.clone()));
        tokio::spawn(crate::retention::run(self.store.clone(), self.retention, shutdown.clone()));
        if let Some((account, _, publisher)) = self.demo {
            tokio::spawn(demo::run(self.store.clone(), publisher, account, shutdown.clone()));
        }
        if let Some((publisher, receiver)) = self.operator {
            tokio::spawn(notices::run(publisher, receiver, shutdown.clone()));
        }
        // The log is written until the last request has been answered, then emptied.
        let served_all = CancellationToken::new();
        let recording = tokio::spawn(self.recorder.run(served_all.clone()));
        let streams_stop = self.streams_stop;
        let stopping = shutdown.clone();
        tokio::spawn(async move {
            stopping.cancelled().await;
            streams_stop.cancel();
        });
        let served = crate::server::serve(self.listener, self.router, self.server, shutdown.clone()).await;
        shutdown.cancel();
        served_all.cancel();
        let _ = delivering.await;
        let _ = recording.await;
        if let Some(exporter) = self.exporter {
            let _ = tokio::task::spawn_blocking(move || exporter.shutdown()).await;
        }
        served
    }
}

/// The backend named by the database URL's scheme: none means the embedded SQLite file.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, StartupError> {
    match settings.database_url.as_deref() {
        None => Ok(Arc::new(SqliteStore::open_reserving(&settings.data_dir, settings.disk_reserve)?)),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PostgresStore::connect(url, settings.database_pool).await?))
        }
        Some(url) => Err(StartupError::UnsupportedDatabase(redact(url))),
    }
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.split('@').next_back().unwrap_or(url).to_owned(),
    }
}

fn delivery_config(settings: &Settings) -> DeliveryConfig {
    DeliveryConfig {
        schedule: settings.retry_schedule.clone(),
        limits: SendLimits {
            connect_timeout: settings.connect_timeout,
            total_timeout: settings.delivery_timeout,
            max_response_body: settings.max_response_body_bytes,
            destinations: settings.destinations.clone(),
            egress_proxy: settings.egress_proxy.clone(),
            node: settings.node_id.clone(),
        },
        max_in_flight: settings.max_in_flight,
        lease_duration: DeliveryConfig::lease_for(settings.lease_duration, settings.delivery_timeout),
        poll_interval: settings.poll_interval,
        shutdown_grace: settings.shutdown_grace,
        disable_after: settings.disable_after,
        notices: Notices::default(),
        telemetry: Default::default(),
    }
}
