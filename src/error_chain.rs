//! An error and its causes in one line (`outer: cause: root cause`), for logs and the command line.
//!
//! Library errors keep their causes as `#[source]`; this is the one place that renders the whole chain.

pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}
