//! A readable API reference page (`GET /docs`), rendered once at start-up from the OpenAPI document.
//!
//! Plain server-side HTML with inline styles: no script, no font or stylesheet from elsewhere, so it works
//! offline and in any browser, and it says exactly what `GET /v1/openapi.json` says.

use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The name of a `$ref`ed schema, or its type.
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    match (schema.get("type"), schema.get("items")) {
        (Some(Value::String(kind)), Some(items)) if kind == "array" => format!("[{}]", schema_name(items)),
        (Some(kind), _) => kind.to_string().trim_matches('"').to_owned(),
        _ => "object".to_owned(),
    }
}

fn body_schema(content: Option<&Value>) -> Option<String> {
    let (media, body) = content?.as_object()?.iter().next()?;
    Some(format!("{} <code>{}</code>", escape(&schema_name(&body["schema"])), escape(media)))
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let summary = op.get("summary").or(op.get("description")).and_then(Value::as_str).unwrap_or_default();
    out.push_str(&format!(
        "<section><h3><span class=m>{}</span> <code>{}</code></h3><p>{}</p>",
        method.to_uppercase(),
        escape(path),
        escape(summary)
    ));
    let security: Vec<String> = op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_object().and_then(|o| o.keys().next().cloned()))
        .collect();
    if !security.is_empty() {
        out.push_str(&format!("<p><b>Auth</b>: {}</p>", escape(&security.join(" or "))));
    }
    let parameters: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default();
            let place = p["in"].as_str().unwrap_or_default();
            let about = p["description"].as_str().unwrap_or_default();
            format!("<code>{}</code> ({}) {}", escape(name), escape(place), escape(about))
        })
        .collect();
    if !parameters.is_empty() {
        out.push_str(&format!("<p><b>Parameters</b>: {}</p>", parameters.join("; ")));
    }
    if let Some(body) = body_schema(op["requestBody"].get("content")) {
        out.push_str(&format!("<p><b>Body</b>: {body}</p>"));
    }
    let responses: Vec<String> = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, response)| {
            let body = body_schema(response.get("content")).unwrap_or_default();
            let about = response["description"].as_str().unwrap_or_default();
            format!("<li><code>{}</code> {} {}</li>", escape(status), escape(about), body)
        })
        .collect();
    out.push_str(&format!("<ul>{}</ul></section>", responses.join("")));
}

/// The whole page.
pub fn render(document: &Value) -> String {
    let title = document["info"]["title"].as_str().unwrap_or("API");
    let about = document["info"]["description"].as_str().unwrap_or_default();
    let mut out = format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{0} API reference</title>\
         <meta name=viewport content=\"width=device-width\"><style>body{{font:15px/1.5 system-ui,sans-serif;\
         max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}code{{background:#f2f2f2;padding:0 .2em}}\
         section{{border-top:1px solid #ddd;padding:.5rem 0}}.m{{font-weight:bold;color:#0a5}}h3{{margin:.3rem 0}}\
         </style></head><body><h1>{0} API reference</h1><p>{1}</p><p>Machine-readable: \
         <a href=\"/v1/openapi.json\"><code>/v1/openapi.json</code></a> (OpenAPI 3.1).</p>",
        escape(title),
        escape(about)
    );
    for tag in document["tags"].as_array().into_iter().flatten() {
        let name = tag["name"].as_str().unwrap_or_default();
        out.push_str(&format!(
            "<h2 id=\"{0}\">{0}</h2><p>{1}</p>",
            escape(name),
            escape(tag["description"].as_str().unwrap_or_default())
        ));
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let tagged = op["tags"].as_array().is_some_and(|tags| tags.iter().any(|t| t == name));
                if tagged {
                    operation(&mut out, method, path, op);
                }
            }
        }
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_operations_under_their_tags_and_escapes_text() {
        let document = json!({
            "info": {"title": "Herald", "description": "<b>hi</b>"},
            "tags": [{"name": "events", "description": "Events"}],
            "paths": {"/v1/events": {"post": {"tags": ["events"], "summary": "Publish",
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PublishEvent"}}}},
                "responses": {"202": {"description": "Accepted"}}}}}
        });
        let page = render(&document);
        assert!(page.contains("<span class=m>POST</span> <code>/v1/events</code>"));
        assert!(page.contains("PublishEvent <code>application/json</code>"));
        assert!(page.contains("&lt;b&gt;hi&lt;/b&gt;"));
        assert!(page.contains("<code>202</code> Accepted"));
    }
}
