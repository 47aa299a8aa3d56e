//! `herald webhooks list|create|delete`: the merchant's webhooks, as a table for people or `--json`.

use clap::{Args, Subcommand};
use herald_client::types;
use serde_json::json;

use super::client::{Api, CliError, Connection, field, print_table};

#[derive(Args, Debug)]
pub struct WebhooksArgs {
    #[command(subcommand)]
    command: WebhooksCommand,
}

#[derive(Subcommand, Debug)]
pub enum WebhooksCommand {
    /// The merchant's webhooks.
    #[command(after_help = "Example:\n  herald webhooks list --client-id hcl_… --client-secret hsk_…")]
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: Connection,
    },
    /// Register a webhook; prints its signing secret (shown only now).
    #[command(
        after_help = "Example:\n  herald webhooks create https://shop.example/webhooks --events charge.succeeded,charge.refunded"
    )]
    Create {
        /// The endpoint's URL
        #[arg(value_name = "URL")]
        endpoint: String,
        /// Event types to send (comma-separated); * for all
        #[arg(long, value_delimiter = ',', default_value = "*")]
        events: Vec<String>,
        /// standard, stripe or paypal
        #[arg(long)]
        format: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: Connection,
    },
    /// Delete a webhook; its pending deliveries are cancelled.
    #[command(after_help = "Example:\n  herald webhooks delete wh_01J…")]
    Delete {
        id: String,
        #[command(flatten)]
        connection: Connection,
    },
}

pub async fn run(args: WebhooksArgs) -> Result<(), CliError> {
    match args.command {
        WebhooksCommand::List { json, connection } => {
            let api = Api::connect(connection)?;
            let list = api.json(api.merchant()?.api().list_webhooks().await)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list["webhooks"]).unwrap_or_default());
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list["webhooks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|w| {
                    let types: Vec<String> =
                        w["event_types"].as_array().into_iter().flatten().map(|t| field(t, "name")).collect();
                    vec![field(w, "id"), field(w, "url"), field(w, "status"), field(w, "format"), types.join(",")]
                })
                .collect();
            print_table(&["ID", "URL", "STATUS", "FORMAT", "EVENTS"], &rows);
        }
        WebhooksCommand::Create { endpoint, events, format, description, json, connection } => {
            let api = Api::connect(connection)?;
            let mut body = json!({
                "url": endpoint,
                "event_types": events.iter().map(|name| json!({ "name": name.trim() })).collect::<Vec<_>>(),
            });
            if let Some(format) = format {
                body["format"] = json!(format);
            }
            if let Some(description) = description {
                body["description"] = json!(description);
            }
            let body: types::CreateWebhook = Api::body(body)?;
            let created = api.json(api.merchant()?.api().create_webhook(&body).await)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&created).unwrap_or_default());
            } else {
                println!("Created {} -> {}", field(&created, "id"), field(&created, "url"));
                for key in ["secret", "public_key", "cert_url"] {
                    if created[key].is_string() {
                        println!("{key}: {} (shown once: keep it)", field(&created, key));
                    }
                }
            }
        }
        WebhooksCommand::Delete { id, connection } => {
            let api = Api::connect(connection)?;
            api.merchant()?.api().delete_webhook(&id).await.map_err(|e| api.failed(e))?;
            println!("Deleted {id}");
        }
    }
    Ok(())
}
