//! `herald verify`: checks one delivery by hand, from its saved headers and body.
//!
//! The headers file holds either a JSON object (`{"webhook-id": "…", …}`) or `Name: value` lines, as
//! `curl -D` writes them. The format decides which headers are read and how the key is used.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use herald_signature::{paypal, standard, stripe};

use crate::domain::Timestamp;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Standard,
    Stripe,
    Paypal,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The webhook's `whsec_…` secret (or, with --public-key or --certificate-file, nothing)
    #[arg(long, required_unless_present_any = ["public_key", "certificate_file"])]
    secret: Option<String>,
    /// The webhook's `whpk_…` public key, for Ed25519 (`v1a`) signatures
    #[arg(long, conflicts_with = "secret")]
    public_key: Option<String>,
    /// For PayPal deliveries: the certificate (PEM) served at the delivery's PAYPAL-CERT-URL
    #[arg(long, conflicts_with_all = ["secret", "public_key"], requires = "webhook_id")]
    certificate_file: Option<PathBuf>,
    /// For PayPal deliveries: the receiving webhook's id, which the signature covers
    #[arg(long)]
    webhook_id: Option<String>,
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
    let now = args.at.unwrap_or_else(|| Timestamp::now().as_unix_seconds());
    let (id, timestamp, signature) = (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
    match (args.format, &args.secret, &args.public_key) {
        (Format::Standard, _, Some(public)) => {
            standard::verify_asymmetric(public, id, timestamp, signature, &body, now)?
        }
        (Format::Standard, Some(secret), None) => {
            standard::verify(&standard::SigningSecret::parse(secret)?, id, timestamp, signature, &body, now)?
        }
        (Format::Stripe, Some(secret), None) => stripe::verify(secret, header(stripe::HEADER), &body, now)?,
        (Format::Paypal, None, None) => {
            let (Some(certificate), Some(webhook_id)) = (&args.certificate_file, &args.webhook_id) else {
                return Err("give --certificate-file and --webhook-id for a PayPal delivery".into());
            };
            let time = header(paypal::TRANSMISSION_TIME);
            let sent_at = Timestamp::parse_rfc3339(time).ok_or("PAYPAL-TRANSMISSION-TIME is not an RFC 3339 time")?;
            if (now - sent_at.as_unix_seconds()).abs() > standard::DEFAULT_TOLERANCE_SECONDS {
                return Err("the transmission time is more than 5 minutes from now (give --at to re-check)".into());
            }
            let signed = paypal::signed_string(header(paypal::TRANSMISSION_ID), time, webhook_id, &body);
            paypal::verify(&std::fs::read(certificate)?, &signed, header(paypal::TRANSMISSION_SIG))?
        }
        _ => return Err("give --secret (or --public-key for an Ed25519 standard delivery, or --certificate-file and --webhook-id for a PayPal one)".into()),
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
