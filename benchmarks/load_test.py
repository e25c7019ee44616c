"""Load test: concurrent gradio_client clients against the chat app's /ask endpoint on localhost.

    python benchmarks/load_test.py [--clients 20] [--questions 50] [--url http://127.0.0.1:7860/]

Without --url it starts `app.py` on a free loopback port and stops it afterwards. Every request
is bounded (--timeout), and so is the whole run (--deadline); only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
from gradio_client import Client

ROOT = Path(__file__).resolve().parent.parent


def start_app() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(360):
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("app did not start within 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app on this machine (default: start one)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=50, help="questions per client")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per request")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds allowed for the whole run")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("the load test only targets this machine (127.0.0.1 / localhost)")
    pool = [json.loads(line)["question"]
            for line in (ROOT / "benchmarks" / "seeds_questions.jsonl").read_text("utf-8").splitlines()]
    proc, url = (None, args.url) if args.url else start_app()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + args.deadline

    def client_run(i: int) -> None:
        client = Client(url, verbose=False)
        for j in range(args.questions):
            if time.monotonic() > stop_at:
                with lock:
                    errors.append("deadline reached")
                return
            question = pool[(i * args.questions + j) % len(pool)]
            start = time.perf_counter()
            try:
                job = client.submit(question, api_name="/ask")
                data = job.result(timeout=args.timeout)
                if data.get("question") != question:
                    raise ValueError(f"answer for another question: {data.get('question')!r}")
                with lock:
                    latencies.append(time.perf_counter() - start)
            except Exception as exc:  # every failure is counted, with its reason
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as executor:
            wait([executor.submit(client_run, i) for i in range(args.clients)])
        elapsed = time.perf_counter() - started
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    total = args.clients * args.questions
    ms = np.asarray(latencies) * 1000
    print(f"{args.clients} clients x {args.questions} questions = {total} requests in {elapsed:.1f} s")
    print(f"ok {len(latencies)}, errors {len(errors)}")
    if len(ms):
        print(f"latency p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
              f"max {ms.max():.0f} ms; throughput {len(latencies) / elapsed:.1f} requests/s")
    for reason in sorted(set(errors))[:5]:
        print(f"  error: {reason} (x{errors.count(reason)})")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
