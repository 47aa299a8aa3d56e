#!/usr/bin/env python3
"""Verify one captured delivery with the libraries merchants use, and print what each said.

Reads JSON on stdin: {"format": "standard" | "ed25519" | "stripe", "secret" | "public_key": "...",
"headers": {name: value}, "body": "<raw body>"} and prints {"<library>": true | false, ...}.

- standard: the `standardwebhooks` package and Svix's `svix` package (both check v1 HMAC signatures).
- stripe: Stripe's `stripe` package (`stripe.Webhook.construct_event`).
- ed25519: no official library verifies `v1a`, so `cryptography`'s Ed25519 checks the signature directly,
  with the Standard Webhooks timestamp rule (at most 300 seconds away).
"""

import base64
import json
import sys
import time


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


def main():
    request = json.load(sys.stdin)
    request["headers"] = {name.lower(): value for name, value in request["headers"].items()}
    check = {"standard": standard, "stripe": stripe_library, "ed25519": ed25519}[request["format"]]
    print(json.dumps(check(request)))


if __name__ == "__main__":
    main()
