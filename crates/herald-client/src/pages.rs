//! Paging: every item of a list that pages with `page_size` and `next_cursor`, fetched a page at a time.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

use crate::{Herald, HeraldError, types};

type PageFuture<'a, T> = Pin<Box<dyn Future<Output = Result<(Vec<T>, Option<String>), HeraldError>> + Send + 'a>>;
type FetchPage<'a, T> = Box<dyn Fn(Option<String>) -> PageFuture<'a, T> + Send + Sync + 'a>;

/// The items of a paged list, in the order Herald lists them: `while let Some(item) = pages.next().await`.
pub struct Pages<'a, T> {
    fetch: FetchPage<'a, T>,
    buffered: VecDeque<T>,
    /// `None` before the first page; then the cursor of the next page, `Some(None)` after the last.
    cursor: Option<Option<String>>,
}

impl<'a, T> Pages<'a, T> {
    fn new(fetch: FetchPage<'a, T>) -> Self {
        Self { fetch, buffered: VecDeque::new(), cursor: None }
    }

    /// The next item, fetching the next page when this one is used up.
    pub async fn next(&mut self) -> Option<Result<T, HeraldError>> {
        while self.buffered.is_empty() {
            let cursor = match self.cursor.take() {
                None => None,
                Some(None) => {
                    self.cursor = Some(None);
                    return None;
                }
                Some(Some(cursor)) => Some(cursor),
            };
            match (self.fetch)(cursor).await {
                Ok((items, next)) => {
                    self.buffered.extend(items);
                    self.cursor = Some(next);
                }
                Err(error) => {
                    self.cursor = Some(None);
                    return Some(Err(error));
                }
            }
        }
        self.buffered.pop_front().map(Ok)
    }

    /// Every remaining item.
    pub async fn collect(mut self) -> Result<Vec<T>, HeraldError> {
        let mut items = Vec::new();
        while let Some(item) = self.next().await {
            items.push(item?);
        }
        Ok(items)
    }
}

/// Which events to list.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub page_size: Option<i32>,
    pub event_type: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub transaction_id: Option<String>,
}

impl Herald {
    /// Every event notification of the merchant (`GET /v1/notifications/webhooks-events`), newest first.
    pub fn events(&self, query: EventQuery) -> Pages<'_, types::Envelope> {
        Pages::new(Box::new(move |cursor| {
            let query = query.clone();
            Box::pin(async move {
                let page = self
                    .api
                    .list_events(
                        cursor.as_deref(),
                        query.end_time.as_deref(),
                        query.event_type.as_deref(),
                        query.page_size,
                        query.start_time.as_deref(),
                        query.transaction_id.as_deref(),
                    )
                    .await?
                    .into_inner();
                Ok((page.events, page.next_cursor))
            })
        }))
    }

    /// Every delivery of one webhook (`GET /v1/notifications/webhooks/{id}/deliveries`), `status` one of
    /// Herald's delivery states or all.
    pub fn deliveries(
        &self,
        webhook_id: &'_ str,
        status: Option<&'_ str>,
        page_size: Option<i32>,
    ) -> Pages<'_, types::DeliveryView> {
        let (webhook_id, status) = (webhook_id.to_owned(), status.map(str::to_owned));
        Pages::new(Box::new(move |cursor| {
            let (webhook_id, status) = (webhook_id.clone(), status.clone());
            Box::pin(async move {
                let page = self
                    .api
                    .list_deliveries(&webhook_id, cursor.as_deref(), page_size, status.as_deref())
                    .await?
                    .into_inner();
                Ok((page.deliveries, page.next_cursor))
            })
        }))
    }
}
