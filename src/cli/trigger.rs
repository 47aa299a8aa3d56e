//! `herald trigger <event_type>`: publish one event, the catalog's sample or a resource from a file.
//!
//! With the admin token it publishes a real event for an account (`--account`, or the account of
//! `--client-id`), delivered to every subscribed webhook and listener. With only the merchant's credentials
//! it sends the type's sample to one of the merchant's webhooks (`--webhook`), as simulate-event does.

use std::path::PathBuf;

use clap::Args;
use herald_client::types;
use serde_json::{Value, json};

use super::client::{Api, CliError, Connection, field};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  herald trigger charge.succeeded --account acct_01J…\n  herald trigger \
                        payment.created --resource payment.json --client-id hcl_… --admin-token hadm_…\n  herald \
                        trigger invoice.updated --webhook wh_01J…   # merchant only: the sample, to one webhook")]
pub struct TriggerArgs {
    /// The event type, from the catalog
    event_type: String,
    /// The resource to publish (a JSON file) [default: the catalog's sample]
    #[arg(long)]
    resource: Option<PathBuf>,
    /// The account to publish for [default: the account of --client-id]
    #[arg(long)]
    account: Option<String>,
    /// Merchant only: send the sample to this webhook instead of publishing
    #[arg(long)]
    webhook: Option<String>,
    /// Print Herald's answer as JSON
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: Connection,
}

pub async fn run(args: TriggerArgs) -> Result<(), CliError> {
    let api = Api::connect(args.connection.clone())?;
    let event = match (&args.webhook, api.has_admin_token()) {
        (Some(webhook), _) => simulate(&api, &args, webhook).await?,
        (None, true) => publish(&api, &args).await?,
        (None, false) => {
            return Err(CliError::Missing(
                "publishing needs the admin token (--admin-token); with only the merchant's credentials, name a \
                 webhook to send the sample to with --webhook",
            ));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&event).unwrap_or_default());
    } else {
        println!("Triggered {} [{}]", field(&event, "event_type"), field(&event, "id"));
    }
    Ok(())
}

async fn simulate(api: &Api, args: &TriggerArgs, webhook: &str) -> Result<Value, CliError> {
    if args.resource.is_some() {
        return Err(CliError::Missing("--resource needs publishing (the admin token); --webhook sends the sample"));
    }
    let body: types::Simulate = Api::body(json!({ "webhook_id": webhook, "event_type": args.event_type }))?;
    api.json(api.merchant()?.api().simulate_event(&body).await)
}

async fn publish(api: &Api, args: &TriggerArgs) -> Result<Value, CliError> {
    let account = match &args.account {
        Some(account) => account.clone(),
        None => account_of_client(api).await?,
    };
    let resource = match &args.resource {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| CliError::Io { what: format!("cannot read {}", path.display()), source })?;
            serde_json::from_str::<Value>(&text)
                .map_err(|e| CliError::Config { path: path.display().to_string(), message: e.to_string() })?
        }
        None => sample(api, &args.event_type).await?,
    };
    let event = Api::body(json!({ "account_id": account, "event_type": args.event_type, "resource": resource }))?;
    let published = api.operator()?.publish(&event).await.map_err(|e| api.failed(e))?;
    serde_json::to_value(published).map_err(|e| CliError::Unexpected(e.to_string()))
}

/// The catalog's sample of the type.
async fn sample(api: &Api, event_type: &str) -> Result<Value, CliError> {
    let catalog = api.json(api.operator()?.api().list_event_types().await)?;
    let entry = catalog["event_types"].as_array().into_iter().flatten().find(|e| e["name"] == event_type);
    match entry {
        Some(entry) if !entry["sample"].is_null() => Ok(entry["sample"].clone()),
        Some(_) => Err(CliError::Missing("that event type has no sample in the catalog: give one with --resource")),
        None => Err(CliError::Missing("that event type is not in the catalog (see GET /v1/event-types)")),
    }
}

/// The id of the account whose client id was given, found among the operator's accounts.
async fn account_of_client(api: &Api) -> Result<String, CliError> {
    let Some(client_id) = &api.client_id else {
        return Err(CliError::Missing("say which account to publish for: --account, or --client-id of the merchant"));
    };
    let mut cursor: Option<String> = None;
    loop {
        let page = api.json(api.operator()?.api().list_accounts(cursor.as_deref(), Some(100)).await)?;
        if let Some(account) = page["accounts"].as_array().into_iter().flatten().find(|a| a["client_id"] == *client_id)
        {
            return Ok(field(account, "id"));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Err(CliError::Missing("no account has that client id")),
        }
    }
}
