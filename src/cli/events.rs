//! `herald events tail` (follow deliveries and their attempts as they happen) and `herald events resend`.

use std::collections::HashMap;
use std::time::Duration;

use clap::{Args, Subcommand};
use herald_client::types;
use serde_json::{Value, json};

use super::client::{Api, CliError, Connection, field};

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Follow the merchant's deliveries as events arrive and attempts are made (one line per change).
    #[command(
        after_help = "Examples:\n  herald events tail\n  herald events tail --webhook wh_01J… --status failed --json"
    )]
    Tail {
        /// Only this webhook's deliveries [default: every webhook of the account]
        #[arg(long)]
        webhook: Option<String>,
        /// Only deliveries in this state: pending, succeeded, failed or cancelled
        #[arg(long)]
        status: Option<String>,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
        /// How often to look, in milliseconds
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        #[command(flatten)]
        connection: Connection,
    },
    /// Deliver an event again: to one webhook, or to every webhook subscribed to its type.
    #[command(after_help = "Example:\n  herald events resend evt_01J… --webhook wh_01J…")]
    Resend {
        id: String,
        #[arg(long)]
        webhook: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
}

pub async fn run(args: EventsArgs) -> Result<(), CliError> {
    match args.command {
        EventsCommand::Tail { webhook, status, json, interval_ms, connection } => {
            tail(Api::connect(connection)?, webhook, status, json, Duration::from_millis(interval_ms.max(100))).await
        }
        EventsCommand::Resend { id, webhook, connection } => {
            let api = Api::connect(connection)?;
            let body = types::Resend { webhook_ids: webhook.clone().map(|w| vec![w]) };
            api.json(api.merchant()?.api().resend_event(&id, Some(&body)).await)?;
            println!("Resent {id}{}", webhook.map(|w| format!(" to {w}")).unwrap_or_default());
            Ok(())
        }
    }
}

/// What was last seen of a delivery: its state and attempt count.
type Seen = HashMap<String, (String, u64)>;

/// The most deliveries one page of a look asks for, and the most pages one look reads (a delivery retrying
/// for days would otherwise make every look page back through everything since).
const PAGE: i32 = 500;
const MAX_PAGES: usize = 20;

async fn tail(
    api: Api,
    webhook: Option<String>,
    status: Option<String>,
    json: bool,
    interval: Duration,
) -> Result<(), CliError> {
    let webhooks = match webhook {
        Some(id) => {
            let found = api.json(api.merchant()?.api().show_webhook(&id).await)?;
            vec![(id, field(&found, "url"))]
        }
        None => {
            let list = api.json(api.merchant()?.api().list_webhooks().await)?;
            list["webhooks"].as_array().into_iter().flatten().map(|w| (field(w, "id"), field(w, "url"))).collect()
        }
    };
    if !json {
        eprintln!("Following {} webhook(s); Ctrl-C stops", webhooks.len());
    }
    let mut seen = Seen::new();
    // What existed before the command started is not news; what came since is, even on the first look.
    let now = crate::domain::Timestamp::now();
    let started = now.to_rfc3339();
    let floor = crate::domain::DeliveryId::floor_at(now).to_string();
    let mut first = true;
    loop {
        let mut changed = Vec::new();
        for (id, url) in &webhooks {
            for delivery in look(&api, id, status.as_deref(), &seen, &floor, first).await? {
                let now = (field(&delivery, "status"), delivery["attempt_count"].as_u64().unwrap_or(0));
                let news = !first || field(&delivery, "created_at") >= started;
                if seen.insert(field(&delivery, "id"), now.clone()).as_ref() != Some(&now) && news {
                    changed.push((id.clone(), url.clone(), delivery));
                }
            }
        }
        // Oldest first, as they happened.
        changed.sort_by_key(|(_, _, d)| field(d, "id"));
        for (webhook, url, delivery) in changed {
            print_change(&webhook, &url, &delivery, json);
        }
        first = false;
        tokio::time::sleep(interval).await;
    }
}

/// The webhook's deliveries that may have changed since the last look, newest first: page after page,
/// down to the oldest one still pending when last seen (its attempts may have moved it on) or, if that is
/// older, the newest one seen before, or the command's start (everything newer is new), so that a burst
/// larger than a page is shown whole. The first look reads one page, to know where things stand.
async fn look(
    api: &Api,
    webhook: &str,
    status: Option<&str>,
    seen: &Seen,
    floor: &str,
    first: bool,
) -> Result<Vec<Value>, CliError> {
    let newest_seen = seen.keys().max().map_or(floor, String::as_str).max(floor);
    let oldest_open = seen.iter().filter(|(_, (state, _))| state == "pending").map(|(id, _)| id.as_str()).min();
    let boundary = oldest_open.map_or(newest_seen, |open| open.min(newest_seen)).to_owned();
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let deliveries = api.merchant()?.api().list_deliveries(webhook, cursor.as_deref(), Some(PAGE), status);
        let page = api.json(deliveries.await)?;
        let deliveries = page["deliveries"].as_array().cloned().unwrap_or_default();
        let oldest_on_page = deliveries.last().map(|d| field(d, "id"));
        found.extend(deliveries);
        let next = page["next_cursor"].as_str().map(str::to_owned);
        let past_boundary = oldest_on_page.is_none_or(|oldest| oldest <= boundary);
        if first || past_boundary || next.is_none() {
            break;
        }
        cursor = next;
    }
    Ok(found)
}

fn print_change(webhook: &str, url: &str, delivery: &Value, json: bool) {
    if json {
        let mut line = delivery.clone();
        line["webhook_id"] = json!(webhook);
        line["url"] = json!(url);
        println!("{line}");
        return;
    }
    let code = delivery["last_status_code"].as_u64().map(|c| format!(" [{c}]")).unwrap_or_default();
    println!(
        "{}  {}  {}  -> {}  {}{} attempt {}",
        field(delivery, "created_at"),
        field(delivery, "event_type"),
        field(delivery, "event_id"),
        url,
        field(delivery, "status"),
        code,
        delivery["attempt_count"].as_u64().unwrap_or(0)
    );
}
