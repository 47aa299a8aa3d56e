//! JSON Schema checks of published resources.
//!
//! An event type may carry a JSON Schema; every resource published with that type must satisfy it. Schemas
//! are compiled once per catalog version (the entry's `updated_at`) and kept, since compiling costs far more
//! than validating. Remote `$ref`s are never fetched: the validator is built without network resolvers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::Timestamp;
use crate::domain::model::EventType;

/// One way a resource fails its schema: where (a JSON pointer into the resource) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

/// Why a schema could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the schema is not a valid JSON Schema: {0}")]
pub struct InvalidSchema(String);

/// Compiles a schema, to check it when the operator saves it.
pub fn compile(schema: &serde_json::Value) -> Result<jsonschema::Validator, InvalidSchema> {
    jsonschema::validator_for(schema).map_err(|e| InvalidSchema(e.to_string()))
}

/// Every violation of `validator` by `resource`, at most `limit` of them.
pub fn violations(validator: &jsonschema::Validator, resource: &serde_json::Value, limit: usize) -> Vec<Violation> {
    validator
        .iter_errors(resource)
        .take(limit)
        .map(|error| Violation { pointer: error.instance_path().to_string(), message: error.to_string() })
        .collect()
}

/// Compiled schemas by event type, each tagged with the catalog version it was compiled from.
#[derive(Default)]
pub struct SchemaCache {
    compiled: Mutex<HashMap<String, (Timestamp, Arc<jsonschema::Validator>)>>,
}

impl SchemaCache {
    /// The entry's compiled schema, or `None` when it has none.
    pub fn validator(&self, entry: &EventType) -> Result<Option<Arc<jsonschema::Validator>>, InvalidSchema> {
        let Some(text) = &entry.schema else { return Ok(None) };
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((version, validator)) = compiled.get(entry.name.as_str())
            && *version == entry.updated_at
        {
            return Ok(Some(validator.clone()));
        }
        let schema: serde_json::Value = serde_json::from_str(text).map_err(|e| InvalidSchema(e.to_string()))?;
        let validator = Arc::new(compile(&schema)?);
        compiled.insert(entry.name.to_string(), (entry.updated_at, validator.clone()));
        Ok(Some(validator))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_name_the_failing_pointers() {
        let schema = json!({"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}}});
        let validator = compile(&schema).unwrap();
        assert!(violations(&validator, &json!({"id": "ch_1", "amount": 5}), 10).is_empty());
        let found = violations(&validator, &json!({"id": 7, "amount": -1}), 10);
        let mut pointers: Vec<&str> = found.iter().map(|v| v.pointer.as_str()).collect();
        pointers.sort();
        assert_eq!(pointers, ["/amount", "/id"]);
        assert!(compile(&json!({"type": "no-such-type"})).is_err());
    }
}
