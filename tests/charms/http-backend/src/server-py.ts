/**
 * The application the charm runs, as Python 3 source (the image has python3; shipping it
 * inside the bundle keeps the charm one file). Two listeners in one process:
 *   - the application on `port`: `/` answers the unit name, `/slow?s=N` answers after N
 *     seconds; at most `workers` requests run at once, the rest wait, as in a real server;
 *   - the health endpoint on `check-port`: any path answers "ok" at once (it never waits
 *     for a worker), and `/stats` gives counters the tests read: application requests
 *     received, in progress, and health checks answered.
 * SIGTERM stops both listeners, then lets the requests in flight finish.
 */
export const SERVER_PY = String.raw`
import json, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

NAME, PORT, CHECK_PORT, WORKERS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
workers = threading.BoundedSemaphore(WORKERS)
lock = threading.Lock()
counters = {"requests": 0, "active": 0, "checks": 0}


def count(key, delta=1):
    with lock:
        counters[key] += delta


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, body):
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class App(Handler):
    def do_GET(self):
        count("requests")
        with workers:
            count("active")
            try:
                url = urlparse(self.path)
                if url.path == "/slow":
                    time.sleep(min(float(parse_qs(url.query).get("s", ["1"])[0]), 300))
                self.reply(NAME + "\n")
            finally:
                count("active", -1)


class Health(Handler):
    def do_GET(self):
        if urlparse(self.path).path == "/stats":
            with lock:
                self.reply(json.dumps(counters) + "\n")
        else:
            count("checks")
            self.reply("ok\n")


class GracefulServer(ThreadingHTTPServer):
    # server_close() waits for the requests in flight.
    daemon_threads = False


app = GracefulServer(("0.0.0.0", PORT), App)
health = ThreadingHTTPServer(("0.0.0.0", CHECK_PORT), Health)
threading.Thread(target=health.serve_forever, daemon=True).start()


def stop(signum, frame):
    def shut():
        health.shutdown()
        app.shutdown()
    threading.Thread(target=shut).start()


signal.signal(signal.SIGTERM, stop)
app.serve_forever()
health.server_close()
app.server_close()
`;
