"""Load test: concurrent gradio_client clients against the chat app's /ask endpoint on localhost.

    python benchmarks/load_test.py [--clients 20] [--questions 50] [--url http://127.0.0.1:7860/]
                                   [--out results.json]

Without --url it starts `app.py` on a free loopback port and stops it afterwards. Every request
is bounded (--timeout), and so is the whole run (--deadline); only 127.0.0.1 is ever contacted.
Every second request carries a history (the client's previous question and answer), as a chat's
follow-ups do. The app's resident memory (RSS, from /proc) is sampled as requests complete: the
report gives it after the first tenth of the requests (warm) and at the end, and the growth per
request over the second half (a leak shows as a steady slope; a cache filling up flattens).

`--mixed` is the soak: of every 10 requests 7 are good questions, 2 malformed API calls (an empty
question, one over the length limit, a history that is not a list) and 1 raw HTTP request (a body that
is not JSON, an upload of a small text file, a body over the request limit); a malformed request counts
as handled when the app refuses it with a message (or HTTP 4xx), and the app's log is searched for
tracebacks. `--sample-every N` samples the RSS every N requests.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
from gradio_client import Client

ROOT = Path(__file__).resolve().parent.parent


def start_app(log=subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=log)
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
    parser.add_argument("--out", help="write the figures (and the RSS samples) to this JSON file")
    parser.add_argument("--mixed", action="store_true", help="mix in malformed API calls and raw HTTP requests")
    parser.add_argument("--sample-every", type=int, default=0, metavar="N", help="RSS every N requests")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("the load test only targets this machine (127.0.0.1 / localhost)")
    pool = [json.loads(line)["question"]
            for line in (ROOT / "benchmarks" / "seeds_questions.jsonl").read_text("utf-8").splitlines()]
    log_file = tempfile.NamedTemporaryFile("w+b", prefix="rag-load-", suffix=".log", delete=False)  # noqa: SIM115
    proc, url = (None, args.url) if args.url else start_app(log_file)
    latencies: list[float] = []
    errors: list[str] = []
    refused: list[str] = []  # malformed requests the app refused with a message
    rss: list[tuple[int, int]] = []  # (requests done, app RSS in KB)
    lock = threading.Lock()
    stop_at = time.monotonic() + args.deadline
    total = args.clients * args.questions
    every = args.sample_every or max(1, total // 200)
    counter = iter(range(10**9))

    def sample() -> None:
        with lock:
            done = next(counter) + 1
        if proc is not None and done % every == 0:
            taken = (done, app_rss_kb(proc.pid))
            with lock:
                rss.append(taken)

    def malformed(client: Client, k: int) -> None:
        """One malformed request; it must be refused with a message, never answered or left unexplained."""
        kind = k % 6
        try:
            if kind < 3:
                question, history = [("", []), ("Why? " * 700, []), ("Where is the harbour?", 5)][kind]
                client.predict(question, history, api_name="/ask")
                raise ValueError(f"a malformed call was answered: {kind}")
            status = raw_request(url, kind)
            if not 400 <= status < 500 and kind != 4:
                raise ValueError(f"raw request {kind} got HTTP {status}")
            with lock:
                refused.append(f"raw {kind}: HTTP {status}")
        except Exception as exc:
            message = str(exc)
            if kind < 3 and message and message != "None" and "answered" not in message:
                with lock:
                    refused.append(f"api {kind}: {message[:60]}")
            else:
                with lock:
                    errors.append(f"malformed {kind}: {type(exc).__name__}: {message[:120]}")
        sample()

    def client_run(i: int) -> None:
        client = Client(url, verbose=False)
        previous: dict | None = None
        for j in range(args.questions):
            if time.monotonic() > stop_at:
                with lock:
                    errors.append("deadline reached")
                return
            if args.mixed and j % 10 >= 7:
                malformed(client, i * args.questions + j)
                continue
            question = pool[(i * args.questions + j) % len(pool)]
            history = [previous] if previous and j % 2 else []
            start = time.perf_counter()
            try:
                job = client.submit(question, history, api_name="/ask")
                data = job.result(timeout=args.timeout)
                if data.get("question") != question:
                    raise ValueError(f"answer for another question: {data.get('question')!r}")
                previous = {"question": question, "answer": data.get("answer", "")}
                with lock:
                    latencies.append(time.perf_counter() - start)
                sample()
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
    ms = np.asarray(latencies) * 1000
    log_file.seek(0)
    app_log = log_file.read().decode("utf-8", "replace")
    report = {"clients": args.clients, "questions_per_client": args.questions, "requests": total,
              "with_history": "every second request", "seconds": round(elapsed, 1), "ok": len(latencies),
              "errors": len(errors), "error_reasons": sorted(set(errors))[:5], "mixed": args.mixed,
              "malformed_refused": len(refused), "app_log_tracebacks": app_log.count("Traceback"),
              "app_log_lines": app_log.count("\n"), "cpu": cpu_name()}
    if args.mixed:
        print(f"malformed requests refused with a message: {len(refused)}; tracebacks in the app's log: "
              f"{report['app_log_tracebacks']} ({report['app_log_lines']} log lines)")
    print(f"{args.clients} clients x {args.questions} questions = {total} requests in {elapsed:.1f} s "
          f"(every second one with a history)")
    print(f"ok {len(latencies)}, errors {len(errors)}")
    if len(ms):
        report.update(p50_ms=float(np.percentile(ms, 50)), p95_ms=float(np.percentile(ms, 95)),
                      max_ms=float(ms.max()), requests_per_s=len(latencies) / elapsed)
        print(f"latency p50 {report['p50_ms']:.0f} ms, p95 {report['p95_ms']:.0f} ms, "
              f"max {report['max_ms']:.0f} ms; throughput {report['requests_per_s']:.1f} requests/s")
    if len(rss) >= 4:
        rss.sort()
        finished = rss[-1][0]  # requests answered (fewer than asked when the deadline stopped the run)
        warm = next(kb for done, kb in rss if done >= finished // 10)
        half = [(done, kb) for done, kb in rss if done >= finished // 2]
        slope = float(np.polyfit([d for d, _ in half], [kb for _, kb in half], 1)[0]) if len(half) >= 2 else None
        report.update(rss_mb_warm=warm / 1024, rss_mb_end=rss[-1][1] / 1024, rss_kb_per_request_second_half=slope,
                      rss_samples=rss)
        print(f"app RSS {warm / 1024:.0f} MB after {finished // 10} requests, {rss[-1][1] / 1024:.0f} MB at the end; "
              f"second half: {slope:+.2f} KB per request" if slope is not None else "second half: too few samples")
    for reason in sorted(set(errors))[:5]:
        print(f"  error: {reason} (x{errors.count(reason)})")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    sys.exit(1 if errors else 0)


def raw_request(url: str, kind: int) -> int:
    """A raw HTTP request of kind 3 (a body that is not JSON), 4 (a small text upload) or 5 (a body over
    the request limit); the HTTP status."""
    if kind == 3:
        body, target, headers = b"{not json", "gradio_api/call/ask", {"Content-Type": "application/json"}
    elif kind == 4:
        boundary = "ragsoak"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"note.txt\"\r\n"
                f"Content-Type: text/plain\r\n\r\nThe harbour opens at nine.\r\n--{boundary}--\r\n").encode()
        target, headers = "gradio_api/upload", {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    else:
        body, target, headers = b"x" * (128 * 1024), "gradio_api/call/ask", {"Content-Type": "application/json"}
    request = urllib.request.Request(url + target, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def app_rss_kb(pid: int) -> int:
    """Resident memory of the app process, in KB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
