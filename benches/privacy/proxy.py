"""A recording proxy for an OpenAI-compatible model server.

Forwards every request (any method, any path: `POST /v1/chat/completions`,
`GET /v1/models`, llama.cpp's `GET /props`, ...) to the real server and appends
one JSON object per request to a JSONL file: time, method, path and the request
body (parsed as JSON when it is JSON, else as text). The answer goes back to
the client unchanged (status, content type, body). Python standard library
only; one thread per connection.

    python proxy.py --upstream http://127.0.0.1:8089 --log requests.jsonl [--port 0]

prints `listening on PORT` once it accepts connections. Used by privacy.py,
which starts it in-process with `start_proxy()` instead.
"""

import argparse
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers that describe one hop, not the request: never forwarded.
HOP_HEADERS = {'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
               'te', 'trailers', 'transfer-encoding', 'upgrade', 'host', 'content-length',
               'accept-encoding'}


class Recorder:
    """Appends request records to a JSONL file, one writer at a time."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def record(self, entry):
        line = json.dumps(entry, ensure_ascii=False)
        with self.lock, open(self.path, 'a', encoding='utf-8') as f:
            f.write(line + '\n')


def make_handler(upstream, recorder, timeout):
    upstream = upstream.rstrip('/')

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *args):  # quiet: the JSONL file is the log
            pass

        def _forward(self):
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length) if length else b''
            text = body.decode('utf-8', errors='replace')
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            recorder.record({'time': time.time(), 'method': self.command,
                             'path': self.path, 'body': parsed})
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            req = urllib.request.Request(upstream + self.path, data=body or None,
                                         headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    status, reply, ctype = resp.status, resp.read(), resp.headers.get('Content-Type')
            except urllib.error.HTTPError as e:
                status, reply, ctype = e.code, e.read(), e.headers.get('Content-Type')
            except (urllib.error.URLError, OSError) as e:
                status, ctype = 502, 'application/json'
                reply = json.dumps({'error': {'message': f'proxy: upstream unreachable ({e})'}}).encode()
            try:
                self.send_response(status)
                self.send_header('Content-Type', ctype or 'application/octet-stream')
                self.send_header('Content-Length', str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up on this request (rowsmith drops the requests still
                # out when it has its rows); the request was recorded all the same.
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward

    return Handler


def start_proxy(upstream, log_path, port=0, timeout=900):
    """Starts the proxy on 127.0.0.1 in a background thread; returns the server
    (its port is `server.server_address[1]`; stop it with `server.shutdown()`)."""
    server = ThreadingHTTPServer(('127.0.0.1', port),
                                 make_handler(upstream, Recorder(log_path), timeout))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--upstream', required=True, help='the real server, e.g. http://127.0.0.1:8089')
    ap.add_argument('--log', required=True, help='JSONL file the request bodies are appended to')
    ap.add_argument('--port', type=int, default=0, help='port on 127.0.0.1 (0: any free one)')
    args = ap.parse_args()
    server = start_proxy(args.upstream, args.log, args.port)
    print(f'listening on {server.server_address[1]}', flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == '__main__':
    main()
