#!/usr/bin/env python3
"""A soak run: Herald under a steady publish rate for a while, delivering to a receiver that fails a share
of its requests, with a short retention so that the history turns over during the run. Every interval it
prints the resident memory of the Herald process, the size of its database files, what was published and
delivered, and any 5xx answer; at the end it says whether memory and the database stopped growing once
retention had caught up, and fails (exit 1) on any 5xx or on growth.

Usage: scripts/soak.py PATH_TO_HERALD [--minutes 10] [--rate 100] [--fail 0.33] [--retention 60s]
"""

import argparse
import http.server
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TOKEN = "soak-admin-token"


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {"published": 0, "refused_5xx": 0, "other_errors": 0, "received": 0, "failed_on_purpose": 0}

    def add(self, name, n=1):
        with self.lock:
            self.values[name] += n

    def snapshot(self):
        with self.lock:
            return dict(self.values)


def start_receiver(counters, fail_share):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            counters.add("received")
            failing = random.random() < fail_share
            if failing:
                counters.add("failed_on_purpose")
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook"


def call(base, method, path, body=None, auth=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", auth or f"Bearer {TOKEN}")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def start_herald(binary, data_dir, retention):
    env = dict(os.environ, HERALD_LISTEN="127.0.0.1:0", HERALD_DATA_DIR=data_dir, HERALD_ADMIN_TOKEN=TOKEN,
               HERALD_ALLOW_SUBNETS="127.0.0.0/8", HERALD_DELIVER_ONLY_TO_ALLOWED="true", HERALD_LOG="warn",
               HERALD_RETENTION=retention, HERALD_RETRY_SCHEDULE="1s,2s,5s,10s", HERALD_DELIVERY_TIMEOUT="5s")
    process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("listening on "):
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
            return process, line.split(" ", 2)[2].strip()
    sys.exit("soak: herald did not start")


def publisher(base, account, interval, stop, counters):
    n = 0
    next_at = time.monotonic()
    while not stop.is_set():
        n += 1
        body = {"account_id": account, "event_type": "payment.created",
                "resource": {"n": n, "amount": 1999, "currency": "eur", "note": "x" * 600}}
        try:
            call(base, "POST", "/v1/events", body)
            counters.add("published")
        except urllib.error.HTTPError as error:
            counters.add("refused_5xx" if error.code >= 500 else "other_errors")
        except OSError:
            counters.add("other_errors")
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def database_bytes(data_dir):
    return sum(os.path.getsize(os.path.join(data_dir, name)) for name in os.listdir(data_dir)
               if name.startswith("herald.db"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=100, help="events per second")
    parser.add_argument("--fail", type=float, default=1 / 3, help="share of requests the receiver fails")
    parser.add_argument("--retention", default="60s")
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    args = parser.parse_args()

    counters = Counters()
    receiver = start_receiver(counters, args.fail)
    with tempfile.TemporaryDirectory() as data_dir:
        process, base = start_herald(args.binary, data_dir, args.retention)
        try:
            call(base, "PUT", "/v1/event-types/payment.created", {"description": "soak"})
            account = call(base, "POST", "/v1/accounts", {"name": "soak"})
            import base64
            basic = base64.b64encode(f"{account['client_id']}:{account['client_secret']}".encode()).decode()
            call(base, "POST", "/v1/notifications/webhooks",
                 {"url": receiver, "event_types": [{"name": "*"}]}, auth=f"Basic {basic}")
            stop = threading.Event()
            threads = 4
            for _ in range(threads):
                threading.Thread(target=publisher, args=(base, account["id"], threads / args.rate, stop, counters),
                                 daemon=True).start()
            started = time.monotonic()
            samples = []
            print("minute  rss_MiB  db_MiB  published  received  failed_on_purpose  5xx", flush=True)
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(args.every)
                c = counters.snapshot()
                sample = ((time.monotonic() - started) / 60, rss_kib(process.pid) / 1024, database_bytes(data_dir) / 2**20)
                samples.append(sample)
                print(f"{sample[0]:6.1f}  {sample[1]:7.1f}  {sample[2]:6.1f}  {c['published']:9}  {c['received']:8}  "
                      f"{c['failed_on_purpose']:17}  {c['refused_5xx']}", flush=True)
            stop.set()
        finally:
            process.terminate()
            process.wait(timeout=30)
    c = counters.snapshot()
    # Growth after the first third of the run, by which time retention has turned the history over.
    settled = [s for s in samples if s[0] >= args.minutes / 3]
    rss_growth = settled[-1][1] - settled[0][1] if len(settled) > 1 else 0
    db_growth = settled[-1][2] - settled[0][2] if len(settled) > 1 else 0
    print(f"after the first third: resident memory {settled[0][1]:.1f} -> {settled[-1][1]:.1f} MiB, "
          f"database {settled[0][2]:.1f} -> {settled[-1][2]:.1f} MiB; 5xx answers: {c['refused_5xx']}, "
          f"other errors: {c['other_errors']}")
    grew = rss_growth > 0.25 * settled[0][1] or db_growth > 0.25 * max(settled[0][2], 1)
    if c["refused_5xx"] or c["other_errors"] or grew:
        sys.exit("soak: FAILED (5xx, errors, or growth after retention caught up)")
    print("soak: memory and the database stopped growing; no 5xx")


if __name__ == "__main__":
    main()
