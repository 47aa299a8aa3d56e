//! The `herald` command: `herald serve` runs the API and the delivery workers in one process.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herald::app::Application;
use herald::config::{ServeArgs, Settings};
use herald::error_chain::error_chain;
use herald::keyring::AdminToken;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "herald", version, about = "Self-hosted webhook delivery")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API and the delivery workers (embedded SQLite, zero configuration).
    ///
    /// Example: herald serve --listen 127.0.0.1:8080 --data-dir ./herald-data
    Serve(ServeArgs),
    /// Run Herald with a demo account, webhooks and a stream of sample events (same as serve --demo).
    ///
    /// Example: herald demo, then open http://127.0.0.1:8080/dashboard
    Demo(ServeArgs),
    /// Create or upgrade the database schema, then exit (serve also does this on start).
    ///
    /// Example: herald migrate --database-url postgres://herald@db.internal/herald
    Migrate(ServeArgs),
    /// Check a delivery's signature by hand, from its saved headers and body.
    ///
    /// Example: herald verify --secret whsec_… --headers-file headers.txt --body-file body.json
    Verify(herald::cli::verify::VerifyArgs),
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| "info".into());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Demo(args) => runtime.block_on(serve(ServeArgs { demo: true, ..args })),
        Command::Migrate(args) => runtime.block_on(migrate(args)),
        Command::Verify(args) => herald::cli::verify::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error.as_ref()),
    }
}

fn fail(error: &(dyn std::error::Error + 'static)) -> ExitCode {
    eprintln!("herald: {}", error_chain(error));
    ExitCode::FAILURE
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::resolve(args)?;
    let listener = tokio::net::TcpListener::bind(settings.bind_address()).await?;
    let data_dir = settings.data_dir.clone();
    let app = Application::build(settings, listener).await?;
    if let AdminToken::Generated(token) = app.admin_token() {
        let stored = data_dir.join("admin-token");
        println!("generated the admin token (shown once; also stored in {}): {token}", stored.display());
    }
    if let Some(login) = app.demo_login() {
        println!("demo: open http://{}/dashboard and sign in as the Demo Shop merchant", app.address());
        println!("demo:   client id      {}", login.client_id);
        println!("demo:   client secret  {}", login.client_secret);
        println!(
            "demo: the operator's pages are at /dashboard/operator/login (admin token above or in the data directory)"
        );
    }
    if let Some(secret) = app.made_operator_secret() {
        println!("generated the operator webhook's signing secret (shown once): {secret}");
    }
    let address = app.address();
    tracing::info!(%address, data_dir = %data_dir.display(), "herald started");
    println!("listening on http://{address}");
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await?;
    tracing::info!("herald stopped");
    Ok(())
}

async fn migrate(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::resolve(args)?;
    std::fs::create_dir_all(&settings.data_dir)?;
    herald::app::open_store(&settings).await?;
    println!("the database schema is up to date");
    Ok(())
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: no new work; letting attempts in flight finish");
    shutdown.cancel();
}
