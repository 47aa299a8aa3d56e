//! The W3C Trace Context a publisher sends with an event (`traceparent`, `tracestate`), kept with the
//! event so that every delivery of it, retries days later included, continues the publisher's trace.
//!
//! A malformed header is ignored, as the W3C recommendation says: it never fails a publish.

/// The longest `tracestate` kept (the recommendation's limit).
const MAX_TRACESTATE: usize = 512;

/// A valid `traceparent`, and the `tracestate` that came with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceContext {
    traceparent: String,
    tracestate: Option<String>,
}

impl TraceContext {
    /// The context in the headers' values, or `None` when `traceparent` is absent or malformed.
    pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<Self> {
        let traceparent = traceparent.trim();
        let parts: Vec<&str> = traceparent.split('-').collect();
        let [version, trace_id, parent_id, flags] = parts[..] else { return None };
        let hex =
            |text: &str, len: usize| text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let zero = |text: &str| text.bytes().all(|b| b == b'0');
        if version != "00"
            || !hex(trace_id, 32)
            || !hex(parent_id, 16)
            || !hex(flags, 2)
            || zero(trace_id)
            || zero(parent_id)
        {
            return None;
        }
        let tracestate = tracestate
            .map(str::trim)
            .filter(|state| {
                !state.is_empty() && state.len() <= MAX_TRACESTATE && state.bytes().all(|b| (0x20..0x7f).contains(&b))
            })
            .map(str::to_owned);
        Some(Self { traceparent: traceparent.to_owned(), tracestate })
    }

    /// As stored: the two values as they were sent.
    pub fn from_stored(traceparent: String, tracestate: Option<String>) -> Self {
        Self { traceparent, tracestate }
    }

    pub fn traceparent(&self) -> &str {
        &self.traceparent
    }

    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// The 32 hex digits of the trace id.
    pub fn trace_id(&self) -> &str {
        &self.traceparent[3..35]
    }

    /// Whether the trace is being recorded (the `sampled` flag).
    pub fn sampled(&self) -> bool {
        u8::from_str_radix(&self.traceparent[53..55], 16).is_ok_and(|flags| flags & 1 == 1)
    }

    /// The context of a request made within this trace with span id `span`, keeping the sampling flags
    /// and the `tracestate`.
    pub fn child(&self, span: u64) -> Self {
        let span = span.max(1);
        let traceparent = format!("00-{}-{span:016x}-{}", self.trace_id(), &self.traceparent[53..55]);
        Self { traceparent, tracestate: self.tracestate.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn valid_headers_are_kept_and_malformed_ones_ignored() {
        let context = TraceContext::parse(PARENT, Some("congo=t61rcWkgMzE")).unwrap();
        assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.tracestate(), Some("congo=t61rcWkgMzE"));
        assert!(context.sampled());
        assert!(!TraceContext::parse(&PARENT.replace("-01", "-00"), None).unwrap().sampled());
        assert_eq!(context.child(0xabc).traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000abc-01");
        let malformed = [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
        ];
        for header in malformed {
            assert_eq!(TraceContext::parse(header, None), None, "{header}");
        }
        let long = "a=".to_owned() + &"b".repeat(600);
        assert_eq!(
            TraceContext::parse(PARENT, Some(&long)).unwrap().tracestate(),
            None,
            "an oversized tracestate is dropped"
        );
    }
}
