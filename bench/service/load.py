#!/usr/bin/env python3
"""Load on the HTTP service: CLIENTS threads submit WORKFLOWS small workflows in all (POST
/workflows, keep-alive connections), each client then follows its workflows' event streams
(SSE) to their end; then every workflow's status is read once (GET /workflows/{id}/status).
Checks that every workflow completed, none lost or duplicated. Prints one JSON line of figures.
Usage: load.py URL TOKEN CLIENTS WORKFLOWS"""
import http.client, json, sys, threading, time, urllib.parse

url, token, clients, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlparse(url)
auth = {"Authorization": "Bearer " + token}
doc = json.dumps({"name": "load", "operations": [{"id": "a", "kind": "command", "run": ["true"]}]})
submit_lat, status_lat, ids, errors = [], [], [], []
lock = threading.Lock()

def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)

def client(n):
    c = conn()
    mine = []
    for _ in range(n):
        t = time.perf_counter()
        c.request("POST", "/workflows", body=doc, headers={**auth, "Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        dt = time.perf_counter() - t
        if r.status != 201:
            with lock: errors.append(("submit", r.status, body[:200]))
            continue
        mine.append(json.loads(body)["data"]["workflow_id"])
        with lock: submit_lat.append(dt)
    for wid in mine:  # follow each to its end
        s = conn()
        s.request("GET", f"/workflows/{wid}/events", headers={**auth, "Accept": "text/event-stream"})
        text = s.getresponse().read().decode()
        s.close()
        if "event: workflow_completed" not in text:
            with lock: errors.append(("follow", wid, text[-200:]))
    with lock: ids.extend(mine)

per = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
start = time.perf_counter()
threads = [threading.Thread(target=client, args=(n,)) for n in per]
for t in threads: t.start()
for t in threads: t.join()
submit_wall = time.perf_counter() - start

def status_client(chunk):
    c = conn()
    for wid in chunk:
        t = time.perf_counter()
        c.request("GET", f"/workflows/{wid}/status", headers=auth)
        r = c.getresponse()
        body = json.loads(r.read())
        dt = time.perf_counter() - t
        with lock:
            status_lat.append(dt)
            if body["data"]["status"] != "completed": errors.append(("status", wid, body["data"]["status"]))

start = time.perf_counter()
chunks = [ids[i::clients] for i in range(clients)]
threads = [threading.Thread(target=status_client, args=(ch,)) for ch in chunks]
for t in threads: t.start()
for t in threads: t.join()
status_wall = time.perf_counter() - start

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else 0

print(json.dumps({
    "workflows": len(ids), "unique": len(set(ids)), "errors": errors[:5], "error_count": len(errors),
    "submit_rps": len(submit_lat) / submit_wall if submit_wall else 0,
    "submit_p50_ms": pct(submit_lat, 0.5), "submit_p99_ms": pct(submit_lat, 0.99),
    "status_rps": len(status_lat) / status_wall if status_wall else 0,
    "status_p50_ms": pct(status_lat, 0.5), "status_p99_ms": pct(status_lat, 0.99),
}))
