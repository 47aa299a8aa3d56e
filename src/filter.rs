//! Payload filters: a webhook's CEL expression over the event object (its fields are top-level names:
//! `resource.amount >= 10000 && resource.currency == "eur"`, `event_type.startsWith("PAYMENT.")`),
//! compiled once when the webhook's target is prepared and evaluated for each event at fan-out (pure).
//!
//! A filter's cost is bounded before it is accepted, so that a hostile one cannot stall fan-out: its
//! length, the size of its tree and its depth, and at most one list macro (`all`, `exists`, `map`,
//! `filter`, …) with none inside another, so evaluation is linear in the event's size. An event reaches
//! the webhook only when the filter evaluates to `true`; an error (a missing field, a wrong type) is
//! `false`, as a filter that does not match.

use std::collections::HashMap;
use std::sync::Arc;

use cel_interpreter::{Context, Program, Value};
use cel_parser::ast::{EntryExpr, Expr, IdedExpr};

/// The longest filter accepted, in bytes.
pub const MAX_LENGTH: usize = 1024;
/// The most nodes in a filter's tree.
const MAX_NODES: usize = 200;
/// The deepest a filter's tree may be.
const MAX_DEPTH: usize = 32;

/// Why a filter was refused, for the merchant who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("the filter is empty")]
    Empty,
    #[error("the filter is longer than {MAX_LENGTH} bytes")]
    TooLong,
    #[error("the filter is not valid CEL: {0}")]
    Syntax(String),
    #[error("the filter is too complex: {0}")]
    TooComplex(&'static str),
}

/// A compiled filter and the text it came from.
#[derive(Clone)]
pub struct Filter {
    source: Arc<str>,
    program: Arc<Program>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Filter").field(&self.source).finish()
    }
}

impl Filter {
    /// Checks and compiles `source`.
    pub fn compile(source: &str) -> Result<Self, FilterError> {
        let source = source.trim();
        if source.is_empty() {
            return Err(FilterError::Empty);
        }
        if source.len() > MAX_LENGTH {
            return Err(FilterError::TooLong);
        }
        // The parser can panic on some malformed input instead of answering an error; that is a syntax error
        // too, not a failed request.
        let parse = || cel_parser::Parser::default().parse(source);
        let parsed = std::panic::catch_unwind(parse)
            .map_err(|_| FilterError::Syntax("the expression could not be parsed".into()))?
            .map_err(|e| FilterError::Syntax(first_line(&e.to_string())))?;
        bound(&parsed)?;
        let compile = || Program::compile(source);
        let program = std::panic::catch_unwind(compile)
            .map_err(|_| FilterError::Syntax("the expression could not be parsed".into()))?
            .map_err(|e| FilterError::Syntax(first_line(&e.to_string())))?;
        Ok(Self { source: source.into(), program: Arc::new(program) })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the event (its object, as delivered) passes: only a `true` result does.
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        let mut context = Context::default();
        if let serde_json::Value::Object(fields) = event {
            for (name, value) in fields {
                context.add_variable_from_value(name.as_str(), to_cel(value));
            }
        }
        matches!(self.program.execute(&context), Ok(Value::Bool(true)))
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).chars().take(200).collect()
}

/// A JSON value as CEL sees it (whole numbers as ints, others as doubles).
fn to_cel(value: &serde_json::Value) -> Value {
    use serde_json::Value as Json;
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(fields) => {
            let map: HashMap<String, Value> = fields.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            Value::from(map)
        }
    }
}

/// What a walk of the tree found.
#[derive(Default)]
struct Size {
    nodes: usize,
    macros: usize,
}

fn bound(expression: &IdedExpr) -> Result<(), FilterError> {
    let mut size = Size::default();
    walk(expression, 0, false, &mut size)?;
    if size.nodes > MAX_NODES {
        return Err(FilterError::TooComplex("it has too many terms"));
    }
    if size.macros > 1 {
        return Err(FilterError::TooComplex("use at most one list macro (all, exists, exists_one, map, filter)"));
    }
    Ok(())
}

fn walk(expression: &IdedExpr, depth: usize, in_macro: bool, size: &mut Size) -> Result<(), FilterError> {
    size.nodes += 1;
    if depth > MAX_DEPTH {
        return Err(FilterError::TooComplex("it is nested too deeply"));
    }
    let next = depth + 1;
    match &expression.expr {
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                walk(target, next, in_macro, size)?;
            }
            call.args.iter().try_for_each(|arg| walk(arg, next, in_macro, size))
        }
        Expr::Comprehension(comprehension) => {
            if in_macro {
                return Err(FilterError::TooComplex("a list macro inside another is not allowed"));
            }
            size.macros += 1;
            walk(&comprehension.iter_range, next, true, size)?;
            for part in
                [&comprehension.accu_init, &comprehension.loop_cond, &comprehension.loop_step, &comprehension.result]
            {
                walk(part, next, true, size)?;
            }
            Ok(())
        }
        Expr::List(list) => list.elements.iter().try_for_each(|e| walk(e, next, in_macro, size)),
        Expr::Map(map) => map.entries.iter().try_for_each(|entry| entry_walk(&entry.expr, next, in_macro, size)),
        Expr::Struct(structure) => {
            structure.entries.iter().try_for_each(|entry| entry_walk(&entry.expr, next, in_macro, size))
        }
        Expr::Select(select) => walk(&select.operand, next, in_macro, size),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

fn entry_walk(entry: &EntryExpr, depth: usize, in_macro: bool, size: &mut Size) -> Result<(), FilterError> {
    match entry {
        EntryExpr::MapEntry(entry) => {
            walk(&entry.key, depth, in_macro, size)?;
            walk(&entry.value, depth, in_macro, size)
        }
        EntryExpr::StructField(field) => walk(&field.value, depth, in_macro, size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> serde_json::Value {
        json!({
            "id": "evt_1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "livemode": true,
            "resource": {"amount": 15000, "currency": "eur", "status": "COMPLETED", "fee": 1.5,
                         "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}], "metadata": {"order": "o-7"}}
        })
    }

    #[test]
    fn filters_decide_on_the_event_fields() {
        let cases = [
            (r#"resource.amount >= 10000 && resource.currency == "eur""#, true),
            (r#"resource.amount >= 20000"#, false),
            (r#"resource.currency in ["eur", "usd"]"#, true),
            (r#"resource.currency in ["gbp"]"#, false),
            (r#"resource.status == "COMPLETED" || resource.amount < 0"#, true),
            (r#"!(resource.status == "COMPLETED")"#, false),
            (r#"event_type.startsWith("PAYMENT.")"#, true),
            (r#"has(resource.metadata.order)"#, true),
            (r#"has(resource.refund)"#, false),
            (r#"resource.fee > 1.0"#, true),
            (r#"resource.items.exists(i, i.sku == "b")"#, true),
            (r#"resource.items.all(i, i.qty > 1)"#, false),
            (r#"livemode"#, true),
            (r#"resource.missing == 1"#, false),
            (r#"resource.amount"#, false),
            (r#"resource.currency == 3"#, false),
        ];
        for (source, expected) in cases {
            let filter = Filter::compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(filter.matches(&event()), expected, "{source}");
        }
    }

    #[test]
    fn bad_and_costly_filters_are_refused_with_the_reason() {
        assert_eq!(Filter::compile("  ").unwrap_err(), FilterError::Empty);
        assert_eq!(Filter::compile(&"a".repeat(MAX_LENGTH + 1)).unwrap_err(), FilterError::TooLong);
        assert!(matches!(Filter::compile("resource.amount >=").unwrap_err(), FilterError::Syntax(_)));
        assert!(matches!(Filter::compile("resource.(").unwrap_err(), FilterError::Syntax(_)));
        let nested = "resource.items.all(a, resource.items.all(b, a.qty > b.qty))";
        assert!(matches!(Filter::compile(nested).unwrap_err(), FilterError::TooComplex(_)));
        let two = "resource.items.all(a, a.qty > 0) && resource.items.exists(b, b.qty > 1)";
        assert!(matches!(Filter::compile(two).unwrap_err(), FilterError::TooComplex(_)));
        let many = format!("resource.amount in [{}]", (0..250).map(|n| n.to_string()).collect::<Vec<_>>().join(","));
        assert!(many.len() < MAX_LENGTH);
        assert!(matches!(Filter::compile(&many).unwrap_err(), FilterError::TooComplex(_)));
        assert_eq!(Filter::compile(" resource.amount > 1 ").unwrap().source(), "resource.amount > 1");
    }
}
