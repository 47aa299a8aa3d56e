//! Re-indents JSON text for reading, keeping it otherwise exactly as sent: key order, number spelling
//! and string escapes are untouched (a parse-and-print round trip would change them).

/// The text laid out two spaces per level, one member or element per line; `None` if it is not JSON.
pub fn pretty_json(text: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on one line.
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap_or(']'));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_numbers_and_escapes() {
        let text = r#"{"z":1.50,"a":{"s":"x, \"y\": {z}","e":[],"o":{}},"l":[1,2e3,true,null]}"#;
        let pretty = pretty_json(text).unwrap();
        assert_eq!(
            pretty,
            "{\n  \"z\": 1.50,\n  \"a\": {\n    \"s\": \"x, \\\"y\\\": {z}\",\n    \"e\": [],\n    \"o\": {}\n  },\n  \"l\": [\n    1,\n    2e3,\n    true,\n    null\n  ]\n}"
        );
        let before: serde_json::Value = serde_json::from_str(text).unwrap();
        let after: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn refuses_what_is_not_json() {
        assert_eq!(pretty_json("{\"a\":"), None);
        assert_eq!(pretty_json("plain text"), None);
    }
}
