#!/usr/bin/env python3
"""A TLS endpoint for tls_verify_test: serves CERT/KEY (re-read for every connection, so a
test can swap them) on 127.0.0.1, directly or after an SMTP or IMAP STARTTLS exchange.
Usage: tls_peer.py tls|smtp|imap CERT KEY PORT_FILE"""
import socket
import ssl
import sys

mode, cert, key, port_file = sys.argv[1:5]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)


def line(conn):
    data = b""
    while not data.endswith(b"\n"):
        c = conn.recv(1)
        if not c:
            break
        data += c
    return data


while True:
    conn, _ = srv.accept()
    conn.settimeout(5)
    try:
        if mode == "smtp":
            conn.sendall(b"220 tls-peer ESMTP\r\n")
            if not line(conn).upper().startswith(b"EHLO"):
                raise ValueError("no EHLO")
            conn.sendall(b"250-tls-peer\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
            if line(conn).strip().upper() != b"STARTTLS":
                raise ValueError("no STARTTLS")
            conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
        elif mode == "imap":
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] tls-peer ready\r\n")
            tag, _, cmd = line(conn).strip().partition(b" ")
            if cmd.upper() != b"STARTTLS":
                raise ValueError("no STARTTLS")
            conn.sendall(b"* NOTE untagged lines come first\r\n" + tag + b" OK Begin TLS now\r\n")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)
    except Exception:
        pass
    finally:
        conn.close()
