# shellcheck shell=bash
# tests/support/evosd-client.sh: sourced by the integration tests that talk to a running evosd.
# evosd's socket speaks one JSON request per line and answers one line (docs/evosd.md, "Socket");
# its /metrics is plain HTTP (docs/metrics.md).

# evosd_ask SOCKET JSON: the answer line; the socket is retried for up to 10 s (evosd starting),
# each answer waited for 5 s at most.
evosd_ask() {
    python3 - "$1" "$2" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.1)
s.sendall(sys.argv[2].encode() + b"\n"); print(s.makefile().readline().strip())
PY
}

# json_field EXPR: EXPR (Python, over the JSON on stdin as d); strings as they are, the rest as JSON.
json_field() {
    python3 -c 'import json,sys; d=json.loads(sys.stdin.read() or "{}"); v=eval(sys.argv[1]); print(json.dumps(v) if not isinstance(v, str) else v)' "$1" 2>/dev/null
}

# http_get URL: the body (5 s at most); fails when there is none.
http_get() {
    python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")' "$1" 2>/dev/null
}
