"""A ZeroSSL-style EAB credentials endpoint for tests/integration/acme_client_test.cpp.

Usage: eab_fetch_server.py PORT_FILE LOG_FILE CERT KEY KID HMAC
Serves HTTPS on a free loopback port (written to PORT_FILE), appends each POST body to LOG_FILE
and answers as api.zerossl.com/acme/eab-credentials-email does.
"""
import http.server
import json
import ssl
import sys

port_file, log_file, cert, key, kid, hmac = sys.argv[1:7]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(log_file, "ab") as f:
            f.write(body + b"\n")
        out = json.dumps({"success": True, "eab_kid": kid, "eab_hmac_key": hmac}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
