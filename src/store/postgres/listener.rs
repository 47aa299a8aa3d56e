//! LISTEN/NOTIFY: one dedicated connection per node that turns `NOTIFY herald_work` into a wake-up of the
//! local poller. Polling remains the fallback, so a lost connection costs latency, never a delivery; the
//! listener reconnects with a growing pause.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};

pub fn spawn(config: tokio_postgres::Config, work: Arc<Notify>) {
    tokio::spawn(async move {
        let mut pause = Duration::from_millis(100);
        loop {
            match listen(&config, &work).await {
                Ok(()) => pause = Duration::from_millis(100),
                Err(error) => tracing::warn!(error = %error, "lost the LISTEN connection; polling until it is back"),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    });
}

async fn listen(config: &tokio_postgres::Config, work: &Notify) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    // The LISTEN statement only progresses while the connection is polled, so both run in one loop.
    let subscribe = client.batch_execute("LISTEN herald_work");
    tokio::pin!(subscribe);
    let mut subscribed = false;
    loop {
        tokio::select! {
            result = &mut subscribe, if !subscribed => {
                result?;
                subscribed = true;
                // Work may have been announced while this node was not listening.
                work.notify_one();
            }
            message = messages.next() => match message {
                Some(Ok(AsyncMessage::Notification(_))) => work.notify_one(),
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            },
        }
    }
}
