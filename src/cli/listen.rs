//! `herald listen --forward-to http://localhost:3000/webhooks`: the account's events, as they are published,
//! forwarded to a local URL exactly as a webhook would receive them, signed with the listener's secret.
//!
//! It creates a listener (a temporary channel of the merchant's account), reads its server-sent event
//! stream and POSTs each event to the local URL with the headers and body Herald laid out for it. After
//! each forward it writes the last event id to a state file, so a reconnect after a network blip, or a
//! restart after the process was killed, resumes right after it and loses nothing. Herald may send again
//! an event from just before that id (it looks back for events committed late); the ids forwarded lately,
//! kept in the same file, let the CLI drop those. On Ctrl-C (or SIGTERM) it deletes the listener and the
//! state file.
//!
//! A forward counts when the local URL answers 2xx. One that fails (no answer, or another status) is tried
//! again with a growing pause, [`FORWARD_TRIES`] times in all; if it still fails, the command stops with an
//! error and keeps the listener and the state file, whose resume point is then just before that event, so
//! running the same command again forwards it (freshly signed) first. The stream is read as bytes and a
//! message is decoded only once it is complete, so a character split across network reads stays whole.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use herald_client::types;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{Api, CliError, Connection, field};

#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  herald listen --forward-to http://localhost:3000/webhooks --events charge.succeeded,charge.refunded"
)]
pub struct ListenArgs {
    /// Where to POST each event (your handler, on this machine)
    #[arg(long)]
    forward_to: String,
    /// Only these event types (comma-separated) [default: all]
    #[arg(long, value_delimiter = ',')]
    events: Vec<String>,
    /// How events are laid out and signed: standard or stripe
    #[arg(long, default_value = "standard")]
    format: String,
    /// Where to remember the listener and the last event forwarded [default: under ~/.local/state/herald]
    #[arg(long)]
    state_file: Option<PathBuf>,
    #[command(flatten)]
    connection: Connection,
}

/// What survives a restart: the listener, its secret, and the last event forwarded.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct ListenState {
    base: String,
    client_id: String,
    listener_id: String,
    secret: String,
    last_event_id: Option<String>,
    /// The ids forwarded lately, newest last, to drop an event Herald sends again.
    #[serde(default)]
    recent: VecDeque<String>,
}

/// How many forwarded ids the state keeps (Herald looks back a few seconds).
const RECENT: usize = 1000;
/// How often one event is offered to the local URL before the command gives up on it.
pub const FORWARD_TRIES: u32 = 5;
/// The pause after the first failed forward; it doubles after each further one.
const FIRST_PAUSE: Duration = Duration::from_millis(500);

impl ListenState {
    /// Notes a forwarded event; the resume point only ever moves forward.
    fn forwarded(&mut self, id: String) {
        if self.last_event_id.as_ref().is_none_or(|last| *last < id) {
            self.last_event_id = Some(id.clone());
        }
        self.recent.push_back(id);
        while self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }

    /// Moves the resume point back before an event that could not be forwarded, so that the next run
    /// starts with it. Events forwarded after it stay in `recent` and are not forwarded twice.
    fn not_forwarded(&mut self, id: &str) {
        if self.last_event_id.as_deref().is_some_and(|last| last >= id) {
            self.last_event_id = self.recent.iter().filter(|seen| seen.as_str() < id).max().cloned();
        }
    }
}

fn default_state_file(base: &str, client_id: &str, forward_to: &str) -> PathBuf {
    let dir = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("herald");
    let key: u64 = format!("{base}|{client_id}|{forward_to}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    dir.join(format!("listen-{key:016x}.json"))
}

fn load(path: &Path) -> Option<ListenState> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Writes the state through a temporary file, so a kill mid-write leaves the previous one intact.
fn save(path: &Path, state: &ListenState) -> Result<(), CliError> {
    let io = |what: String| move |source| CliError::Io { what, source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    }
    let temporary = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(state).unwrap_or_default();
    std::fs::write(&temporary, bytes).map_err(io(format!("cannot write {}", temporary.display())))?;
    std::fs::rename(&temporary, path).map_err(io(format!("cannot write {}", path.display())))
}

pub async fn run(args: ListenArgs) -> Result<(), CliError> {
    let api = Api::connect(args.connection.clone())?;
    let client_id = api.client_id.clone().unwrap_or_default();
    let path = args.state_file.clone().unwrap_or_else(|| default_state_file(&api.base, &client_id, &args.forward_to));
    let mut state = resume_or_create(&api, &args, &path, &client_id).await?;
    save(&path, &state)?;
    println!("Ready! Your webhook signing secret is {} (listener {})", state.secret, state.listener_id);
    println!("Forwarding events to {}", args.forward_to);
    let stopped = crate::signals::stop_requested();
    tokio::pin!(stopped);
    tokio::select! {
        result = follow(&api, &args.forward_to, &path, &mut state) => result?,
        _ = &mut stopped => {}
    }
    match api.json(api.merchant()?.api().delete_listener(&state.listener_id).await) {
        Ok(_) | Err(CliError::Refused { status: 404, .. }) => println!("Listener {} deleted", state.listener_id),
        Err(error) => eprintln!("herald: could not delete listener {}: {error}", state.listener_id),
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}

/// The listener of a previous run of the same command, if Herald still has it; else a new one.
async fn resume_or_create(api: &Api, args: &ListenArgs, path: &Path, client_id: &str) -> Result<ListenState, CliError> {
    if let Some(state) = load(path).filter(|s| s.base == api.base && s.client_id == client_id) {
        match api.json(api.merchant()?.api().show_listener(&state.listener_id).await) {
            Ok(_) => {
                let after = state.last_event_id.as_deref().unwrap_or("its start");
                println!("Resuming listener {} after {after}", state.listener_id);
                return Ok(state);
            }
            Err(CliError::Refused { status: 404, .. }) => {}
            Err(error) => return Err(error),
        }
    }
    let mut body = json!({ "format": args.format });
    if !args.events.is_empty() {
        body["event_types"] = args.events.iter().map(|name| json!({ "name": name.trim() })).collect();
    }
    let body: types::CreateListener = Api::body(body)?;
    let created = api.json(api.merchant()?.api().create_listener(Some(&body)).await)?;
    Ok(ListenState {
        base: api.base.clone(),
        client_id: client_id.to_owned(),
        listener_id: field(&created, "id"),
        secret: field(&created, "secret"),
        last_event_id: None,
        recent: VecDeque::new(),
    })
}

/// Reads the stream and forwards each event, reconnecting (after the last forwarded id) when it breaks.
async fn follow(api: &Api, forward_to: &str, path: &Path, state: &mut ListenState) -> Result<(), CliError> {
    let mut pause = Duration::from_millis(250);
    loop {
        let merchant = api.merchant()?.api();
        let opened = merchant.stream_listener_events(&state.listener_id, state.last_event_id.as_deref()).await;
        match opened.map_err(|e| api.failed(e)) {
            Ok(response) => {
                pause = Duration::from_millis(250);
                match read_stream(api, response, forward_to, path, state).await {
                    Ok(()) => eprintln!("The stream ended; reconnecting"),
                    Err(error @ CliError::NotForwarded { .. }) => return Err(error),
                    Err(error) => eprintln!("The connection broke ({error}); reconnecting"),
                }
            }
            Err(CliError::Refused { status: 404, .. }) => {
                return Err(CliError::Missing("the listener is gone (deleted elsewhere, or idle for an hour)"));
            }
            Err(error @ CliError::Refused { status: 401 | 403, .. }) => return Err(error),
            Err(error) => eprintln!("Cannot connect ({error}); retrying in {} ms", pause.as_millis()),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// One server-sent event: its id, type and data.
#[derive(Default, Debug, PartialEq)]
struct Message {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

/// The stream's bytes not yet split into messages. A message is decoded only when its blank line has
/// arrived, so a multibyte character that a network read split in two is whole again by then; each read is
/// looked at once, so a large message costs no more than its size.
#[derive(Default)]
struct StreamBuffer {
    /// CRLF already made LF, but for a CR at the very end.
    bytes: Vec<u8>,
}

impl StreamBuffer {
    /// Adds a read and splits off the messages it completes (SSE: fields on lines, a blank line ends one).
    fn push(&mut self, read: &[u8]) -> Vec<Message> {
        let before = self.bytes.len();
        self.bytes.extend_from_slice(read);
        // A CR at the end of the previous read may be the first half of a CRLF.
        normalise_line_ends(&mut self.bytes, before.saturating_sub(1));
        // A blank line may straddle the two reads: look from two bytes before the new ones.
        let mut start = before.saturating_sub(2);
        let mut messages = Vec::new();
        while let Some(at) = self.bytes[start..].windows(2).position(|pair| pair == b"\n\n") {
            let end = start + at;
            let block: Vec<u8> = self.bytes.drain(..end + 2).take(end).collect();
            messages.extend(parse_message(&String::from_utf8_lossy(&block)));
            start = 0;
        }
        messages
    }
}

fn parse_message(block: &str) -> Option<Message> {
    let mut message = Message::default();
    for line in block.lines().filter(|l| !l.starts_with(':')) {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "id" => message.id = Some(value.to_owned()),
            "event" => message.event = Some(value.to_owned()),
            "data" if message.data.is_empty() => message.data = value.to_owned(),
            "data" => message.data = format!("{}\n{value}", message.data),
            _ => {}
        }
    }
    (message.id.is_some() || !message.data.is_empty()).then_some(message)
}

/// CRLF to LF from `from` on. A CR at the very end stays: its LF may be in the next read.
fn normalise_line_ends(bytes: &mut Vec<u8>, from: usize) {
    if !bytes[from..].contains(&b'\r') {
        return;
    }
    let tail: Vec<u8> = bytes.split_off(from);
    for (i, &byte) in tail.iter().enumerate() {
        if byte != b'\r' || tail.get(i + 1).is_none_or(|next| *next != b'\n') {
            bytes.push(byte);
        }
    }
}

async fn read_stream(
    api: &Api,
    response: herald_client::ResponseValue<herald_client::ByteStream>,
    forward_to: &str,
    path: &Path,
    state: &mut ListenState,
) -> Result<(), CliError> {
    let mut buffer = StreamBuffer::default();
    let mut stream = response.into_inner_stream();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = chunk.map_err(|e| CliError::Unexpected(e.to_string()))?;
        for message in buffer.push(&chunk) {
            if message.event.as_deref() != Some("delivery") {
                continue;
            }
            let delivery: Value = serde_json::from_str(&message.data).unwrap_or(Value::Null);
            let id = message.id.unwrap_or_else(|| field(&delivery, "event_id"));
            if state.recent.contains(&id) {
                continue;
            }
            if let Err(failure) = forward_with_retries(api, forward_to, &delivery).await {
                state.not_forwarded(&id);
                save(path, state)?;
                return Err(CliError::NotForwarded { event_id: id, reason: failure });
            }
            state.forwarded(id);
            save(path, state)?;
        }
    }
    Ok(())
}

/// Offers one event to the local URL until it answers 2xx, at most [`FORWARD_TRIES`] times.
async fn forward_with_retries(api: &Api, forward_to: &str, delivery: &Value) -> Result<(), String> {
    let mut pause = FIRST_PAUSE;
    let mut tries = 1;
    loop {
        let Err(failure) = forward(api, forward_to, delivery).await else { return Ok(()) };
        if tries == FORWARD_TRIES {
            return Err(failure);
        }
        println!("    trying again in {} ms ({tries} of {FORWARD_TRIES} tries failed)", pause.as_millis());
        tokio::time::sleep(pause).await;
        pause *= 2;
        tries += 1;
    }
}

/// POSTs one event to the local URL and prints what happened, the way `stripe listen` does; anything but
/// a 2xx answer is a failure, as it would be for a webhook.
async fn forward(api: &Api, forward_to: &str, delivery: &Value) -> Result<(), String> {
    println!("--> {} [{}]", field(delivery, "event_type"), field(delivery, "event_id"));
    let mut request = api.plain(Method::POST, forward_to).timeout(Duration::from_secs(30));
    for (name, value) in delivery["headers"].as_object().into_iter().flatten() {
        if let Some(value) = value.as_str() {
            request = request.header(name.as_str(), value);
        }
    }
    match request.body(field(delivery, "body")).send().await {
        Ok(answer) => {
            let status = answer.status();
            println!("<-- [{}] POST {forward_to}", status.as_u16());
            if status.is_success() { Ok(()) } else { Err(format!("the handler answered {}", status.as_u16())) }
        }
        Err(error) => {
            let chain = crate::error_chain::error_chain(&error);
            println!("<-- [ERR] POST {forward_to}: {chain}");
            Err(chain)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank_state() -> ListenState {
        ListenState {
            base: String::new(),
            client_id: String::new(),
            listener_id: String::new(),
            secret: String::new(),
            last_event_id: None,
            recent: VecDeque::new(),
        }
    }

    #[test]
    fn the_resume_point_only_moves_forward_and_recent_ids_are_bounded() {
        let mut state = blank_state();
        state.forwarded("evt_02".into());
        state.forwarded("evt_01".into());
        assert_eq!(state.last_event_id.as_deref(), Some("evt_02"), "a late event does not move it back");
        for n in 0..RECENT + 5 {
            state.forwarded(format!("evt_1{n:05}"));
        }
        assert_eq!(state.recent.len(), RECENT);
        assert!(!state.recent.contains(&"evt_02".to_owned()));
    }

    #[test]
    fn messages_are_split_on_blank_lines_and_comments_skipped() {
        let mut buffer = StreamBuffer::default();
        let messages =
            buffer.push(b": keep-alive\n\nid: evt_1\nevent: delivery\ndata: {\"a\":1}\n\nid: evt_2\r\nevent: deliv");
        assert_eq!(
            messages,
            vec![Message { id: Some("evt_1".into()), event: Some("delivery".into()), data: "{\"a\":1}".into() }]
        );
        assert!(buffer.push(b"ery\r\ndata: x\r\ndata: y\r").is_empty(), "a CR whose LF has not arrived");
        let messages = buffer.push(b"\n\r\n");
        assert_eq!(messages[0].data, "x\ny");
        assert_eq!(messages[0].event.as_deref(), Some("delivery"));
        assert!(buffer.bytes.is_empty());
    }

    #[test]
    fn a_character_split_across_reads_is_decoded_whole() {
        let text = "data: Grüße aus Zürich — 東京 €5 🎉\n\n".as_bytes();
        for cut in 1..text.len() {
            let mut buffer = StreamBuffer::default();
            let mut messages = buffer.push(&text[..cut]);
            messages.extend(buffer.push(&text[cut..]));
            assert_eq!(messages.len(), 1, "cut at {cut}");
            assert_eq!(messages[0].data, "Grüße aus Zürich — 東京 €5 🎉", "cut at {cut}");
        }
    }

    #[test]
    fn an_event_not_forwarded_moves_the_resume_point_back_before_it() {
        let mut state = blank_state();
        state.not_forwarded("evt_01");
        assert_eq!(state.last_event_id, None, "nothing forwarded yet: from the start");
        state.forwarded("evt_01".into());
        state.forwarded("evt_03".into());
        state.not_forwarded("evt_04");
        assert_eq!(state.last_event_id.as_deref(), Some("evt_03"), "after the last one forwarded");
        state.not_forwarded("evt_02");
        assert_eq!(state.last_event_id.as_deref(), Some("evt_01"), "a late event: before it");
        assert!(state.recent.contains(&"evt_03".to_owned()), "evt_03 is not forwarded again");
    }
}
