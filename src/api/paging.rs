//! Query strings and cursor paging: `page_size` (default 10, at most 500) and an opaque `cursor`.
//!
//! Lists are ordered by id, and ids sort by creation time, so a cursor is the last id of the previous page,
//! base64url-encoded so that callers treat it as opaque.

use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorDetail};
use crate::store::PageRequest;

pub const DEFAULT_PAGE_SIZE: u32 = 10;
pub const MAX_PAGE_SIZE: u32 = 500;

/// A query string parsed into `T`, with errors in Herald's shape.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let RawQuery(query) = RawQuery::from_request_parts(parts, state).await.unwrap_or(RawQuery(None));
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).map(QueryParams).map_err(|e| {
            ApiError::invalid_request("the query string is not valid").with_detail(ErrorDetail {
                field: None,
                value: None,
                location: "query",
                issue: "INVALID_PARAMETER".into(),
                description: e.to_string(),
            })
        })
    }
}

/// The paging part of a list's query string.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 500, default 10
    pub page_size: Option<u32>,
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Asks the store for one item more than the page, to know whether another page follows.
    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        let size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(query_error("page_size", format!("page_size must be 1 to {MAX_PAGE_SIZE}")));
        }
        let after = match &self.cursor {
            Some(cursor) => {
                Some(decode_cursor(cursor).ok_or_else(|| query_error("cursor", "the cursor is not valid"))?)
            }
            None => None,
        };
        Ok(PageRequest { after, limit: size + 1 })
    }
}

/// A query parameter that is not acceptable, named in the error's detail.
pub fn query_error(field: &str, description: impl Into<String>) -> ApiError {
    ApiError::invalid_request("the query string is not valid").with_detail(ErrorDetail {
        field: Some(field.to_owned()),
        value: None,
        location: "query",
        issue: "INVALID_PARAMETER_VALUE".into(),
        description: description.into(),
    })
}

fn decode_cursor(cursor: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()
}

/// A `links[]` entry.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct Link {
    pub href: String,
    pub rel: &'static str,
    pub method: &'static str,
}

/// Trims the extra item fetched by [`PageQuery::to_request`] and says where the next page starts.
pub fn finish_page<T>(
    mut items: Vec<T>,
    request: &PageRequest,
    id_of: impl Fn(&T) -> &str,
    next_href: impl Fn(&str) -> String,
) -> (Vec<T>, Option<String>, Vec<Link>) {
    let page_size = (request.limit - 1) as usize;
    if items.len() <= page_size {
        return (items, None, Vec::new());
    }
    items.truncate(page_size);
    let cursor = URL_SAFE_NO_PAD.encode(id_of(items.last().expect("a full page")));
    let link = Link { href: next_href(&cursor), rel: "next", method: "GET" };
    (items, Some(cursor), vec![link])
}
