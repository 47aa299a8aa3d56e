#!/usr/bin/env python3
"""Verify one captured delivery with the libraries merchants use, and print what each said.

Reads JSON on stdin: {"format": "standard" | "ed25519" | "stripe" | "paypal", "secret" | "public_key" |
"certificate": "...", "webhook_id": "..." (paypal), "headers": {name: value}, "body": "<raw body>"} and prints
{"<library>": true | false, ...}.

- standard: the `standardwebhooks` package and Svix's `svix` package (both check v1 HMAC signatures).
- stripe: Stripe's `stripe` package (`stripe.Webhook.construct_event`).
- ed25519: no official library verifies `v1a`, so `cryptography`'s Ed25519 checks the signature directly,
  with the Standard Webhooks timestamp rule (at most 300 seconds away).
- paypal: PayPal's SDKs only accept PayPal-issued certificates, so `cryptography` checks the RSA signature
  with the certificate Herald serves, the way PayPal documents it: PKCS#1 v1.5 with SHA-256 over
  "transmission_id|transmission_time|webhook_id|crc32(body)", and a transmission time at most 300 s away.
"""

import base64
import json
import sys
import time
import zlib
from datetime import datetime


def standard(request):
    from standardwebhooks.webhooks import Webhook as StandardWebhook
    from svix.webhooks import Webhook as SvixWebhook

    results = {}
    for name, library in (("standardwebhooks", StandardWebhook), ("svix", SvixWebhook)):
        try:
            library(request["secret"]).verify(request["body"], request["headers"])
            results[name] = True
        except Exception:
            results[name] = False
    return results


def stripe_library(request):
    import stripe

    try:
        event = stripe.Webhook.construct_event(request["body"], request["headers"]["stripe-signature"],
                                               request["secret"])
        return {"stripe": True, "type": event["type"], "object": event["object"]}
    except Exception:
        return {"stripe": False}


def ed25519(request):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    headers = request["headers"]
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(request["public_key"].removeprefix("whpk_")))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{request['body']}".encode()
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) <= 300
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), signed)
            return {"cryptography": fresh}
        except Exception:
            continue
    return {"cryptography": False}


def paypal(request):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    headers = request["headers"]
    body = request["body"].encode()
    signed = "|".join([headers["paypal-transmission-id"], headers["paypal-transmission-time"],
                       request["webhook_id"], str(zlib.crc32(body) & 0xFFFFFFFF)]).encode()
    certificate = x509.load_pem_x509_certificate(request["certificate"].encode())
    sent_at = datetime.fromisoformat(headers["paypal-transmission-time"].replace("Z", "+00:00"))
    fresh = abs(time.time() - sent_at.timestamp()) <= 300
    try:
        certificate.public_key().verify(base64.b64decode(headers["paypal-transmission-sig"]), signed,
                                        padding.PKCS1v15(), hashes.SHA256())
        return {"cryptography": fresh and headers["paypal-auth-algo"] == "SHA256withRSA"}
    except Exception:
        return {"cryptography": False}


def main():
    request = json.load(sys.stdin)
    request["headers"] = {name.lower(): value for name, value in request["headers"].items()}
    check = {"standard": standard, "stripe": stripe_library, "ed25519": ed25519, "paypal": paypal}[request["format"]]
    print(json.dumps(check(request)))


if __name__ == "__main__":
    main()
