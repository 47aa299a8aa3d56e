//! `herald verify`: checks one delivery by hand, from its saved headers and body.
//!
//! The headers file holds either a JSON object (`{"webhook-id": "…", …}`) or `Name: value` lines, as
//! `curl -D` writes them. The format decides which headers are read and how the key is used.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use herald_signature::{standard, stripe};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Standard,
    Stripe,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The webhook's `whsec_…` secret (or, with --public-key, nothing)
    #[arg(long, required_unless_present = "public_key")]
    secret: Option<String>,
    /// The webhook's `whpk_…` public key, for Ed25519 (`v1a`) signatures
    #[arg(long, conflicts_with = "secret")]
    public_key: Option<String>,
    /// The delivery's headers: a JSON object or `Name: value` lines
    #[arg(long)]
    headers_file: PathBuf,
    /// The delivery's raw body, byte for byte
    #[arg(long)]
    body_file: PathBuf,
    #[arg(long, value_enum, default_value = "standard")]
    format: Format,
    /// Check against this unix time instead of now (to re-check an old delivery)
    #[arg(long)]
    at: Option<i64>,
}

/// Prints whether the delivery verifies; the error says why not.
pub fn run(args: VerifyArgs) -> Result<(), Box<dyn std::error::Error>> {
    let headers = parse_headers(&std::fs::read_to_string(&args.headers_file)?)?;
    let body = std::fs::read(&args.body_file)?;
    let header = |name: &str| {
        headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or_default()
    };
    let now = args.at.unwrap_or_else(|| crate::domain::Timestamp::now().as_unix_seconds());
    let (id, timestamp, signature) = (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
    match (args.format, &args.secret, &args.public_key) {
        (Format::Standard, _, Some(public)) => {
            standard::verify_asymmetric(public, id, timestamp, signature, &body, now)?
        }
        (Format::Standard, Some(secret), None) => {
            standard::verify(&standard::SigningSecret::parse(secret)?, id, timestamp, signature, &body, now)?
        }
        (Format::Stripe, Some(secret), None) => stripe::verify(secret, header(stripe::HEADER), &body, now)?,
        _ => return Err("give --secret (or --public-key for an Ed25519 standard delivery)".into()),
    }
    println!("verified");
    Ok(())
}

fn parse_headers(text: &str) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    if text.trim_start().starts_with('{') {
        let map: std::collections::BTreeMap<String, String> = serde_json::from_str(text)?;
        return Ok(map.into_iter().collect());
    }
    Ok(text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_come_as_json_or_as_curl_lines() {
        let json = parse_headers(r#"{"webhook-id": "evt_1", "webhook-timestamp": "5"}"#).unwrap();
        assert_eq!(json, vec![("webhook-id".into(), "evt_1".into()), ("webhook-timestamp".into(), "5".into())]);
        let lines = parse_headers("HTTP/1.1 200 OK\r\nwebhook-id: evt_1\r\nStripe-Signature: t=1,v1=ab\r\n").unwrap();
        assert_eq!(lines[1], ("Stripe-Signature".into(), "t=1,v1=ab".into()));
    }
}
