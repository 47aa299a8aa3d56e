#!/usr/bin/env python3
"""Fuzz Herald's HTTP API from its own OpenAPI document with schemathesis, within a bounded budget.

Starts the given `herald` binary on a free loopback port with a fresh data directory, in sandbox mode
(deliveries only to 127.0.0.0/8, so nothing the fuzzer invents can make Herald call out), creates a merchant
account, and runs schemathesis three times: the operator's operations with the admin token, the merchant's
with Basic client credentials, and the merchant's keys and request logs with another account's. Any 5xx, any response that breaks the schema, or any accepted invalid request
fails the run.

Usage: scripts/fuzz_api.py PATH_TO_HERALD [EXAMPLES_PER_OPERATION]
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "fuzz-admin-token"
CHECKS = ["--checks", "all", "--exclude-checks", "ignored_auth,positive_data_acceptance"]


def start_herald(binary, data_dir):
    env = dict(os.environ, HERALD_LISTEN="127.0.0.1:0", HERALD_DATA_DIR=data_dir, HERALD_ADMIN_TOKEN=TOKEN,
               HERALD_ALLOW_SUBNETS="127.0.0.0/8", HERALD_DELIVER_ONLY_TO_ALLOWED="true", HERALD_LOG="warn",
               HERALD_DELIVERY_TIMEOUT="2s",
               # The fuzzer's deliberate bad credentials would otherwise throttle every later pass from
               # this address (the throttle has tests of its own).
               HERALD_AUTH_FAILURES="0", HERALD_AUTH_FAILURES_PER_ADDRESS="0")
    process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    for line in process.stdout:
        if line.startswith("listening on "):
            return process, line.split(" ", 2)[2].strip()
        if time.time() > deadline:
            break
    process.kill()
    sys.exit("fuzz: herald did not start")


def create_merchant(base):
    request = urllib.request.Request(f"{base}/v1/accounts", data=json.dumps({"name": "fuzz"}).encode(),
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    account = json.load(urllib.request.urlopen(request))
    return base64.b64encode(f"{account['client_id']}:{account['client_secret']}".encode()).decode()


def schemathesis(base, examples, selection, authorization):
    command = ["schemathesis", "run", f"{base}/v1/openapi.json", "-n", str(examples), "--seed", "20261127",
               "-H", f"Authorization: {authorization}", *CHECKS, *selection]
    print("fuzz:", " ".join(command[:5]), *selection, flush=True)
    return subprocess.run(command).returncode


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary, examples = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25
    with tempfile.TemporaryDirectory() as data_dir:
        process, base = start_herald(binary, data_dir)
        try:
            operator = schemathesis(base, examples, ["--include-tag", "operator"], f"Bearer {TOKEN}")
            # Created after the operator's pass, which may roll the credentials of any account it finds.
            basic = create_merchant(base)
            # "streams" (server-sent events, which do not end) is left out.
            merchant_tags = ["--include-tag", "webhooks", "--include-tag", "events", "--include-tag", "oauth",
                             "--include-tag", "health", "--include-tag", "listeners"]
            merchant = schemathesis(base, examples, merchant_tags, f"Basic {basic}")
            # The workspace's own calls (keys, request logs) with an account of their own, since they may
            # revoke or roll keys.
            workspace_tags = ["--include-tag", "api_keys", "--include-tag", "request_logs"]
            workspace = schemathesis(base, examples, workspace_tags, f"Basic {create_merchant(base)}")
        finally:
            process.terminate()
            process.wait(timeout=15)
    if process.returncode != 0:
        sys.exit(f"fuzz: herald exited with {process.returncode}")
    if operator or merchant or workspace:
        sys.exit("fuzz: schemathesis found failures")
    print("fuzz: no failures")


if __name__ == "__main__":
    main()
