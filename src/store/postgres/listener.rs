//! LISTEN/NOTIFY: one dedicated connection per node that turns `NOTIFY herald_work` into a wake-up of the
//! local poller, `NOTIFY herald_changes` into the same change on this node's [`ChangeFeed`], and
//! `NOTIFY herald_events` into the same commit on its [`CommitFeed`]. Polling
//! remains the fallback, so a lost connection costs latency, never a delivery; the listener reconnects with
//! a growing pause, and says `Everything` changed when it is back, since it may have missed some.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::store::{Change, ChangeFeed, CommitFeed, Committed};

pub fn spawn(config: tokio_postgres::Config, work: Arc<Notify>, changes: ChangeFeed, commits: CommitFeed) {
    tokio::spawn(async move {
        let mut pause = Duration::from_millis(100);
        loop {
            match listen(&config, &work, &changes, &commits).await {
                Ok(()) => pause = Duration::from_millis(100),
                Err(error) => tracing::warn!(error = %error, "lost the LISTEN connection; polling until it is back"),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    });
}

async fn listen(
    config: &tokio_postgres::Config,
    work: &Notify,
    changes: &ChangeFeed,
    commits: &CommitFeed,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    // The LISTEN statement only progresses while the connection is polled, so both run in one loop.
    let subscribe = client.batch_execute("LISTEN herald_work; LISTEN herald_changes; LISTEN herald_events");
    tokio::pin!(subscribe);
    let mut subscribed = false;
    loop {
        tokio::select! {
            result = &mut subscribe, if !subscribed => {
                result?;
                subscribed = true;
                // Work, and changes, may have been announced while this node was not listening.
                work.notify_one();
                changes.announce(Change::Everything);
                commits.announce(Committed::Any);
            }
            message = messages.next() => match message {
                Some(Ok(AsyncMessage::Notification(note))) if note.channel() == "herald_changes" => {
                    changes.announce(Change::from_payload(note.payload()));
                }
                Some(Ok(AsyncMessage::Notification(note))) if note.channel() == "herald_events" => {
                    commits.announce(Committed::from_payload(note.payload()));
                }
                Some(Ok(AsyncMessage::Notification(_))) => work.notify_one(),
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            },
        }
    }
}
