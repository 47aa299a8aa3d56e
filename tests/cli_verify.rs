//! `herald verify` checks saved deliveries by hand: the official SW-1 and Stripe vectors verify, tampered
//! bodies and wrong secrets do not, and the exit code says which.

use std::process::Command;

const SW1_HEADERS: &str = "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\nwebhook-timestamp: 1614265330\n\
                           webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n";

fn verify(args: &[&str], headers: &str, body: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let (headers_file, body_file) = (dir.path().join("headers"), dir.path().join("body"));
    std::fs::write(&headers_file, headers).unwrap();
    std::fs::write(&body_file, body).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("verify")
        .args(args)
        .arg("--headers-file")
        .arg(&headers_file)
        .arg("--body-file")
        .arg(&body_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn saved_deliveries_are_checked_by_hand() {
    let secret = ["--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--at", "1614265330"];
    let body = r#"{"test": 2432232314}"#;
    assert_eq!(verify(&secret, SW1_HEADERS, body), (true, "verified\n".into()));
    let (ok, why) = verify(&secret, SW1_HEADERS, r#"{"test": 1}"#);
    assert!(!ok && why.contains("no signature"), "{why}");
    let wrong = ["--secret", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "--at", "1614265330"];
    assert!(!verify(&wrong, SW1_HEADERS, body).0);
    let (ok, why) = verify(&secret[..2], SW1_HEADERS, body);
    assert!(!ok && why.contains("300 seconds"), "checked against now, the 2021 vector is stale: {why}");

    let stripe = ["--format", "stripe", "--secret", "whsec_test_secret", "--at", "1614265330"];
    let header =
        "{\"Stripe-Signature\": \"t=1614265330,v1=10c96c6fd3f320fcfc264cdc4f476c15060ede8e8a08404cea2ddf3b72544a9c\"}";
    assert!(verify(&stripe, header, body).0, "JSON headers and the Stripe scheme");
    assert!(!verify(&stripe, header, r#"{"test": 2}"#).0);
}

/// PP-1 (PayPal's Java SDK `ValidateCertTest.java`, `tests/vectors/paypal_java_sdk_vectors.json` in the
/// signature crate) checked by hand with its bundled certificate.
#[test]
fn saved_paypal_deliveries_are_checked_with_the_certificate() {
    let dir = format!("{}/crates/herald-signature/tests/vectors", env!("CARGO_MANIFEST_DIR"));
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/paypal_java_sdk_vectors.json")).unwrap()).unwrap();
    let v = &vectors["master"];
    let headers = serde_json::json!({
        "PAYPAL-TRANSMISSION-ID": v["TRANSMISSION_ID"], "PAYPAL-TRANSMISSION-TIME": v["TRANSMISSION_TIME"],
        "PAYPAL-TRANSMISSION-SIG": v["TRANSMISSION_SIG"], "PAYPAL-CERT-URL": v["CERT_URL"],
        "PAYPAL-AUTH-ALGO": v["AUTH_ALGO"],
    })
    .to_string();
    let body = v["body"].as_str().unwrap();
    let certificate = format!("{dir}/paypal_testClientCert_master.crt");
    let webhook = v["webhook_id"].as_str().unwrap();
    // 2017-03-30T20:04:05Z, the vector's transmission time.
    let args =
        ["--format", "paypal", "--certificate-file", &certificate, "--webhook-id", webhook, "--at", "1490904245"];
    assert_eq!(verify(&args, &headers, body), (true, "verified\n".into()));
    assert!(!verify(&args, &headers, &body.replace("T-Shirt", "T-shirt")).0, "tampered body");
    let mut other = args;
    other[5] = "WH-OTHER";
    assert!(!verify(&other, &headers, body).0, "another webhook's id");
    let (ok, why) = verify(&args[..6], &headers, body);
    assert!(!ok && why.contains("5 minutes"), "checked against now, the 2017 vector is stale: {why}");
    let other_cert = format!("{dir}/paypal_clientCertTest.crt");
    let mut wrong = args;
    wrong[3] = &other_cert;
    assert!(!verify(&wrong, &headers, body).0, "another certificate");
}
