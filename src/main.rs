//! The `herald` command: `herald serve` runs the API and the delivery workers in one process; the other
//! subcommands are tools for developers and operators (see `herald --help`).

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use herald::app::Application;
use herald::config::{ServeArgs, Settings};
use herald::error_chain::error_chain;
use herald::keyring::AdminToken;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "herald",
    version,
    about = "Self-hosted webhook delivery",
    after_help = "Examples:\n  herald serve\n  herald demo\n  herald listen --forward-to http://localhost:3000/webhooks\n\n\
                  Client commands connect with --url, --client-id, --client-secret and --admin-token, or the \
                  HERALD_URL, HERALD_CLIENT_ID, HERALD_CLIENT_SECRET and HERALD_ADMIN_TOKEN variables, or \
                  ~/.config/herald/cli.toml."
)]
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
    /// Forward the account's events to a local URL as they are published, signed like real deliveries.
    Listen(herald::cli::listen::ListenArgs),
    /// Publish one event: the catalog's sample of a type, or a resource from a file.
    Trigger(herald::cli::trigger::TriggerArgs),
    /// Follow deliveries as they happen, or resend an event.
    Events(herald::cli::events::EventsArgs),
    /// List, create and delete the merchant's webhooks.
    Webhooks(herald::cli::webhooks::WebhooksArgs),
    /// Print the OpenAPI document of the HTTP API (what GET /v1/openapi.json serves).
    ///
    /// Example: herald openapi --server-url https://herald.example.com > openapi.json
    Openapi {
        /// The server URL the document names.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server_url: String,
    },
    /// Print a shell completion script.
    ///
    /// Example: herald completions bash > /etc/bash_completion.d/herald
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    init_logs();
    let cli = match parse_command_line() {
        Ok(cli) => cli,
        Err(error) => return fail(&error),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Demo(args) => runtime.block_on(serve(ServeArgs { demo: true, ..args })),
        Command::Migrate(args) => runtime.block_on(migrate(args)),
        Command::Verify(args) => herald::cli::verify::run(args),
        Command::Listen(args) => runtime.block_on(herald::cli::listen::run(args)).map_err(Into::into),
        Command::Trigger(args) => runtime.block_on(herald::cli::trigger::run(args)).map_err(Into::into),
        Command::Events(args) => runtime.block_on(herald::cli::events::run(args)).map_err(Into::into),
        Command::Webhooks(args) => runtime.block_on(herald::cli::webhooks::run(args)).map_err(Into::into),
        Command::Openapi { server_url } => print_openapi(&server_url),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "herald", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error.as_ref()),
    }
}

/// Logs go to stderr: readable lines by default, one JSON object per line with `HERALD_LOG_FORMAT=json`
/// (for log shippers); `HERALD_LOG` filters them (`info` by default).
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match std::env::var("HERALD_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().with_current_span(true).with_span_list(false).init(),
        _ => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
    }
}

fn print_openapi(server_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let document = herald::api::document(server_url.trim_end_matches('/'));
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}

/// The command line; for `serve`, `demo` and `migrate` with `--config`, parsed again with the file's
/// values as the defaults of the settings it names, so flags and variables still win over it.
fn parse_command_line() -> Result<Cli, herald::config::ConfigError> {
    let cli = Cli::parse();
    let (name, config) = match &cli.command {
        Command::Serve(args) => ("serve", &args.config),
        Command::Demo(args) => ("demo", &args.config),
        Command::Migrate(args) => ("migrate", &args.config),
        _ => return Ok(cli),
    };
    let Some(path) = config.clone() else { return Ok(cli) };
    let mut command = Cli::command();
    let subcommand = command.find_subcommand(name).expect("the subcommand exists").clone();
    let with_file = herald::config::with_file_defaults(subcommand, &path)?;
    command = command.mut_subcommand(name, |_| with_file);
    Ok(Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|error| error.exit()))
}

fn fail(error: &(dyn std::error::Error + 'static)) -> ExitCode {
    eprintln!("herald: {}", error_chain(error));
    ExitCode::FAILURE
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::resolve(args);
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
    println!("dashboard at http://{address}/dashboard");
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await?;
    tracing::info!("herald stopped");
    Ok(())
}

async fn migrate(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::resolve(args);
    std::fs::create_dir_all(&settings.data_dir)?;
    herald::app::open_store(&settings).await?;
    println!("the database schema is up to date");
    Ok(())
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    herald::signals::stop_requested().await;
    tracing::info!("shutting down: no new work; letting attempts in flight finish");
    shutdown.cancel();
}
