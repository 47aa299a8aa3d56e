//! Operator: the event-type catalog (`PUT /v1/event-types/{name}`, `GET /v1/event-types`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error::{ApiError, ErrorDetail};
use super::extract::{JsonBody, Merchant, Operator, RequestBody};
use super::openapi::Errors;
use super::state::AppState;
use crate::domain::model::EventType;
use crate::domain::{EventTypeName, Timestamp};
use crate::store::EventTypeDraft;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutEventType {
    description: String,
    resource_type: Option<String>,
    resource_version: Option<String>,
    /// The resource that simulate-event sends for this type (a JSON object).
    #[schema(value_type = Option<Object>)]
    sample: Option<Box<RawValue>>,
    /// A JSON Schema that every published resource of this type must satisfy.
    #[schema(value_type = Option<Object>)]
    schema: Option<Box<RawValue>>,
}

impl RequestBody for PutEventType {}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventTypeView {
    name: EventTypeName,
    description: String,
    status: &'static str,
    resource_type: Option<String>,
    resource_version: Option<String>,
    resource_versions: Vec<String>,
    #[schema(value_type = Option<Object>)]
    sample: Option<Box<RawValue>>,
    #[schema(value_type = Option<Object>)]
    schema: Option<Box<RawValue>>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<EventType> for EventTypeView {
    fn from(entry: EventType) -> Self {
        Self {
            resource_versions: entry.resource_version.iter().cloned().collect(),
            sample: entry.sample.and_then(|text| RawValue::from_string(text).ok()),
            schema: entry.schema.and_then(|text| RawValue::from_string(text).ok()),
            name: entry.name,
            description: entry.description,
            status: entry.status.as_str(),
            resource_type: entry.resource_type,
            resource_version: entry.resource_version,
            created_at: entry.created_at,
            updated_at: entry.updated_at,
        }
    }
}

/// True when the raw JSON is an object (samples and resources must be).
pub fn is_object(raw: &RawValue) -> bool {
    raw.get().trim_start().starts_with('{')
}

#[utoipa::path(operation_id = "put_event_type", put, path = "/v1/event-types/{name}", tag = "operator", request_body = PutEventType, params(("name" = String, Path, description = "Event type name")), security(("admin_token" = [])), responses((status = 200, description = "Updated", body = EventTypeView), (status = 201, description = "Created", body = EventTypeView), Errors))]
pub async fn put(
    _: Operator,
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(body, _): JsonBody<PutEventType>,
) -> Result<(StatusCode, Json<EventTypeView>), ApiError> {
    let name = EventTypeName::parse(&name).map_err(|e| {
        ApiError::validation(ErrorDetail {
            field: Some("name".into()),
            value: Some(name.chars().take(200).collect()),
            location: "path",
            issue: "INVALID_EVENT_TYPE_NAME".into(),
            description: e.to_string(),
        })
    })?;
    if body.schema.as_deref().is_some_and(|schema| !is_object(schema)) {
        return Err(ApiError::validation(ErrorDetail::body(
            "/schema",
            "INVALID_SCHEMA",
            "the schema must be a JSON object",
        )));
    }
    if let Some(schema) = &body.schema {
        let parsed: serde_json::Value = serde_json::from_str(schema.get()).map_err(ApiError::internal)?;
        crate::resource_schema::compile(&parsed)
            .map_err(|e| ApiError::validation(ErrorDetail::body("/schema", "INVALID_SCHEMA", e.to_string())))?;
    }
    if body.sample.as_deref().is_some_and(|sample| !is_object(sample)) {
        return Err(ApiError::validation(ErrorDetail::body(
            "/sample",
            "INVALID_SAMPLE",
            "the sample must be a JSON object",
        )));
    }
    let draft = EventTypeDraft {
        name,
        description: body.description,
        resource_type: body.resource_type,
        resource_version: body.resource_version,
        sample: body.sample.map(|raw| raw.get().to_owned()),
        schema: body.schema.map(|raw| raw.get().to_owned()),
        now: Timestamp::now(),
    };
    let (stored, created) = state.store.put_event_type(draft).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(stored.into())))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventTypeList {
    event_types: Vec<EventTypeView>,
}

#[utoipa::path(operation_id = "list_event_types", get, path = "/v1/event-types", tag = "operator", security(("admin_token" = [])), responses((status = 200, body = EventTypeList), Errors))]
pub async fn list(_: Operator, State(state): State<AppState>) -> Result<Json<EventTypeList>, ApiError> {
    let entries = state.store.list_event_types().await?;
    Ok(Json(EventTypeList { event_types: entries.into_iter().map(EventTypeView::from).collect() }))
}

/// What a merchant sees of one catalog entry (PayPal's "List available events").
#[derive(Serialize, utoipa::ToSchema)]
pub struct AvailableEventType {
    name: EventTypeName,
    description: String,
    status: &'static str,
    resource_versions: Vec<String>,
}

impl From<EventType> for AvailableEventType {
    fn from(entry: EventType) -> Self {
        Self {
            resource_versions: entry.resource_version.iter().cloned().collect(),
            name: entry.name,
            description: entry.description,
            status: entry.status.as_str(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AvailableEventTypes {
    event_types: Vec<AvailableEventType>,
}

#[utoipa::path(operation_id = "list_available_event_types", get, path = "/v1/notifications/webhooks-event-types", tag = "events", security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = AvailableEventTypes), Errors))]
pub async fn list_available(_: Merchant, State(state): State<AppState>) -> Result<Json<AvailableEventTypes>, ApiError> {
    let entries = state.store.list_event_types().await?;
    Ok(Json(AvailableEventTypes { event_types: entries.into_iter().map(AvailableEventType::from).collect() }))
}
