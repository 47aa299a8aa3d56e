//! The official Standard Webhooks test vectors, signed and verified byte for byte.
//!
//! The JSON files in `tests/vectors/` are copied from Herald's signature spec, which collected them from:
//! - `std_official_python_sign.json` (SW-1): standard-webhooks `libraries/python/tests/test_webhooks.py`
//!   `test_sign_function`, the same vector in the JS/Go/Java/PHP/C# libraries and Svix's tests.
//! - `std_official_rust_sign.json` (SW-2): standard-webhooks `libraries/rust/src/lib.rs` `test_sign`.
//! - `std_svix_docs_example_computed.json`: the inputs of Svix's "verifying manually" docs page.
//! - the others are named at the tests that use them.

use herald_signature::standard::{SignatureError, SigningSecret, sign_header, verify};
use serde_json::Value;

struct Vector {
    secret: SigningSecret,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    now: i64,
}

fn load(name: &str) -> Vector {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let header = |h: &str| json["headers"][h].as_str().unwrap().to_owned();
    Vector {
        secret: SigningSecret::parse(json["secret"].as_str().unwrap()).unwrap(),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: json["body"].as_str().unwrap().to_owned(),
        now: json["now"].as_i64().unwrap(),
    }
}

const VECTORS: [&str; 3] =
    ["std_official_python_sign.json", "std_official_rust_sign.json", "std_svix_docs_example_computed.json"];

#[test]
fn signing_reproduces_every_official_signature() {
    for name in VECTORS {
        let v = load(name);
        let ts: i64 = v.timestamp.parse().unwrap();
        assert_eq!(sign_header(&[&v.secret], &v.id, ts, v.body.as_bytes()), v.signature, "{name}");
    }
}

#[test]
fn verification_accepts_every_official_signature() {
    for name in VECTORS {
        let v = load(name);
        verify(&v.secret, &v.id, &v.timestamp, &v.signature, v.body.as_bytes(), v.now).unwrap();
    }
}

#[test]
fn sw1_with_its_last_character_changed_is_rejected() {
    let v = load("std_official_python_sign.json");
    assert!(v.signature.ends_with("1OE="));
    let tampered = v.signature.replace("1OE=", "1OA=");
    let result = verify(&v.secret, &v.id, &v.timestamp, &tampered, v.body.as_bytes(), v.now);
    assert_eq!(result, Err(SignatureError::NoMatch));
}

/// SW-3: svix-server `worker.rs` `test_asymmetric_key_signing`, combined with SW-1 in one rotation-style
/// header (`tests/vectors/std_official_v1a_plus_v1.json`).
#[test]
fn the_v1a_vector_signs_and_verifies_beside_v1() {
    use herald_signature::standard::{AsymmetricKey, verify_asymmetric};
    let path = format!("{}/tests/vectors/std_official_v1a_plus_v1.json", env!("CARGO_MANIFEST_DIR"));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let header = json["headers"]["webhook-signature"].as_str().unwrap();
    let (id, ts) =
        (json["headers"]["webhook-id"].as_str().unwrap(), json["headers"]["webhook-timestamp"].as_str().unwrap());
    let body = json["body"].as_str().unwrap().as_bytes();
    let now = json["now"].as_i64().unwrap();
    let key = AsymmetricKey::parse(json["secret_key_v1a"].as_str().unwrap()).unwrap();
    assert_eq!(key.public_key(), json["public_key"].as_str().unwrap());
    assert_eq!(key.to_whsk(), json["secret_key_v1a"].as_str().unwrap());
    let v1a = key.sign(id, ts.parse().unwrap(), body);
    assert_eq!(header.split(' ').next().unwrap(), v1a, "Ed25519 signatures are deterministic");
    verify_asymmetric(&key.public_key(), id, ts, header, body, now).unwrap();
    let secret = SigningSecret::parse(json["secret"].as_str().unwrap()).unwrap();
    verify(&secret, id, ts, header, body, now).unwrap();
    let other = AsymmetricKey::from_seed([7; 32]);
    assert_eq!(verify_asymmetric(&other.public_key(), id, ts, header, body, now), Err(SignatureError::NoMatch));
    assert_eq!(verify_asymmetric(&key.public_key(), id, ts, header, b"{}", now), Err(SignatureError::NoMatch));
    assert_eq!(
        verify_asymmetric(&key.public_key(), id, ts, header, body, now + 301),
        Err(SignatureError::StaleTimestamp)
    );
}

/// ST-1: stripe-dotnet `EventUtilityTest.cs` with `event_test_signature.json` (484 bytes, final newline
/// included), and the stripe-python fixture signed at a fixed time (`tests/vectors/stripe_*.json`).
#[test]
fn the_stripe_vectors_sign_and_verify() {
    use herald_signature::stripe::{StripeError, sign_header, verify};
    let dir = format!("{}/tests/vectors", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(format!("{dir}/stripe_dotnet_event_test_signature.json")).unwrap();
    assert_eq!(body.len(), 484);
    let expected = "v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7";
    assert_eq!(sign_header(&["webhook_secret"], 1533204620, &body), format!("t=1533204620,{expected}"));
    for name in ["stripe_official_dotnet.json", "stripe_python_fixture_fixed_t.json"] {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}")).unwrap()).unwrap();
        let (secret, body) = (json["secret"].as_str().unwrap(), json["body"].as_str().unwrap().as_bytes());
        let header = json["headers"]["Stripe-Signature"].as_str().unwrap();
        let now = json["now"].as_i64().unwrap();
        verify(secret, header, body, now).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verify("whsec_wrong", header, body, now), Err(StripeError::NoMatch), "{name}");
        assert_eq!(verify(secret, header, b"tampered", now), Err(StripeError::NoMatch), "{name}");
        assert_eq!(verify(secret, header, body, now + 600), Err(StripeError::StaleTimestamp), "{name}");
    }
    // Computed and cross-checked with stripe.WebhookSignature (Herald's signature spec).
    let header = sign_header(&["whsec_test_secret"], 1614265330, br#"{"test": 2432232314}"#);
    assert_eq!(header, "t=1614265330,v1=10c96c6fd3f320fcfc264cdc4f476c15060ede8e8a08404cea2ddf3b72544a9c");
}

/// PP-1 and PP-2: PayPal's Java SDK `ValidateCertTest.java`, verified offline with the certificates it
/// bundles (`tests/vectors/paypal_*`).
#[test]
fn the_paypal_vectors_verify_with_their_certificates() {
    use herald_signature::paypal::{PaypalError, signed_string, verify};
    let dir = format!("{}/tests/vectors", env!("CARGO_MANIFEST_DIR"));
    let vectors: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/paypal_java_sdk_vectors.json")).unwrap()).unwrap();
    let cases = [("master", "paypal_testClientCert_master.crt"), ("f71d56c", "paypal_clientCertTest.crt")];
    for (name, certificate) in cases {
        let v = &vectors[name];
        let certificate = std::fs::read(format!("{dir}/{certificate}")).unwrap();
        let body = v["body"].as_str().unwrap().as_bytes();
        let field = |key: &str| v[key].as_str().unwrap();
        let signed = signed_string(field("TRANSMISSION_ID"), field("TRANSMISSION_TIME"), field("webhook_id"), body);
        verify(&certificate, &signed, field("TRANSMISSION_SIG")).unwrap_or_else(|e| panic!("{name}: {e}"));
        let tampered = signed_string(field("TRANSMISSION_ID"), field("TRANSMISSION_TIME"), field("webhook_id"), b"{}");
        assert_eq!(verify(&certificate, &tampered, field("TRANSMISSION_SIG")), Err(PaypalError::NoMatch), "{name}");
        let other_webhook = signed_string(field("TRANSMISSION_ID"), field("TRANSMISSION_TIME"), "WH-OTHER", body);
        assert_eq!(verify(&certificate, &other_webhook, field("TRANSMISSION_SIG")), Err(PaypalError::NoMatch));
    }
    let pp2 = &vectors["f71d56c"];
    let signed = signed_string(
        "afa30d40-ca4a-11e9-ab68-7d4e2605c70c",
        "2019-08-29T10:49:33Z",
        "0FV983392A0531201",
        pp2["body"].as_str().unwrap().as_bytes(),
    );
    assert_eq!(signed, "afa30d40-ca4a-11e9-ab68-7d4e2605c70c|2019-08-29T10:49:33Z|0FV983392A0531201|3674300368");
}

/// A PayPal-style signature made here verifies with the matching certificate, and only with it. The key and
/// self-signed certificate in `tests/vectors/test_rsa_*` are test fixtures made for this test.
#[test]
fn a_paypal_signature_made_with_a_key_verifies_with_its_certificate() {
    use herald_signature::paypal::{PaypalError, Signer, signed_string, verify};
    let dir = format!("{}/tests/vectors", env!("CARGO_MANIFEST_DIR"));
    let signer = Signer::from_pkcs8(&std::fs::read(format!("{dir}/test_rsa_key.pk8")).unwrap()).unwrap();
    let certificate = std::fs::read(format!("{dir}/test_rsa_cert.pem")).unwrap();
    let signed = signed_string("0b9a0d2e-1d0c-4c53-9f0e-2a1b3c4d5e6f", "2026-11-27T10:00:00Z", "wh_01", b"{\"id\":1}");
    let signature = signer.sign(&signed);
    verify(&certificate, &signed, &signature).unwrap();
    let paypal_certificate = std::fs::read(format!("{dir}/paypal_clientCertTest.crt")).unwrap();
    assert_eq!(verify(&paypal_certificate, &signed, &signature), Err(PaypalError::NoMatch));
    assert!(Signer::from_pkcs8(b"not a key").is_err());
}
