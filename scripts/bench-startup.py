#!/usr/bin/env python3
"""Time from spawning `coffer serve --dev` (pinned to CPU 0, port 8566) to its first answered
request (any HTTP answer counts), over N runs; then its VmRSS/VmHWM.

Usage: scripts/bench-startup.py target/release/coffer 20
"""
import socket, subprocess, sys, time, statistics, tempfile, os

binary, runs = sys.argv[1], int(sys.argv[2])
req = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1:8566\r\nContent-Type: application/x-amz-json-1.1\r\n"
       b"X-Amz-Target: secretsmanager.GetSecretValue\r\n"
       b"Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, "
       b"SignedHeaders=host, Signature=" + b"0" * 64 + b"\r\nContent-Length: 17\r\nConnection: close\r\n\r\n"
       b'{"SecretId":"x"}\n')
times = []
for _ in range(runs):
    data = tempfile.mkdtemp(prefix="bench-data-")
    t0 = time.perf_counter()
    p = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--dev", "--listen", "127.0.0.1:8566",
                          "--data-dir", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", 8566), timeout=1)
            s.sendall(req)
            answer = s.recv(64)
            s.close()
            if answer.startswith(b"HTTP/1.1"):
                break
        except OSError:
            pass
    times.append((time.perf_counter() - t0) * 1000)
    status = open(f"/proc/{p.pid}/status").read()
    rss = [l for l in status.splitlines() if l.startswith(("VmRSS", "VmHWM"))]
    p.terminate(); p.wait()
    os.rmdir(data) if os.path.isdir(data) and not os.listdir(data) else None
print(f"start-to-first-answer ms over {runs} runs: min {min(times):.1f} median {statistics.median(times):.1f} max {max(times):.1f}")
print("after the first request:", "; ".join(" ".join(x.split()) for x in rss))
