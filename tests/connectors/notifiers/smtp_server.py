#!/usr/bin/python3
"""A real SMTP server for the email notifier's tests: Debian's python3-aiosmtpd on 127.0.0.1.

Usage: smtp_server.py MODE CERT KEY USER PASSWORD OUT_DIR
  MODE starttls: STARTTLS required before AUTH and mail; implicit: TLS from the first byte
  (SMTPS); nostarttls: no TLS offered at all (the client must refuse to continue).
Writes the port it listens on to OUT_DIR/port, each delivered message to OUT_DIR/msg-N.eml
(envelope in OUT_DIR/msg-N.env: mail_from, rcpt_tos, auth mechanism), and the number of
accepted connections to OUT_DIR/connections. Exits 77 when aiosmtpd is missing.
"""
import asyncio
import json
import os
import ssl
import sys

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:
    print("SKIP: python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)")
    sys.exit(77)

mode, cert, key, user, password, out = sys.argv[1:7]
count = {"messages": 0, "connections": 0}


def write(name, text):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(out, name))


class Handler:
    async def handle_DATA(self, server, session, envelope):
        count["messages"] += 1
        n = count["messages"]
        mech = getattr(session, "auth_mechanism", None)
        write(f"msg-{n}.env", json.dumps({"mail_from": envelope.mail_from,
                                          "rcpt_tos": envelope.rcpt_tos,
                                          "authenticated": bool(session.authenticated),
                                          "login": (session.login_data or b"").decode()
                                          if isinstance(session.login_data, bytes) else "",
                                          "tls": server.transport.get_extra_info("ssl_object") is not None}))
        write(f"msg-{n}.eml", envelope.original_content.decode("utf-8", "replace"))
        return "250 2.0.0 delivered"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
          and auth_data.password == password.encode())
    if ok:
        with open(os.path.join(out, "auth-mechanisms"), "a") as f:
            f.write(mechanism + "\n")
    # handled=False: aiosmtpd answers 535 itself on failure (handled=True would leave the
    # client waiting for a reply nobody sends).
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    def factory():
        count["connections"] += 1
        write("connections", str(count["connections"]))
        kwargs = dict(hostname="mail.test", authenticator=authenticator,
                      auth_required=mode != "nostarttls",
                      auth_require_tls=True)
        if mode == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        if mode == "implicit":
            # aiosmtpd needs to know the transport is already TLS to allow AUTH on it.
            kwargs.update(auth_require_tls=False)
        return SMTP(Handler(), **kwargs)

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=ctx if mode == "implicit" else None))
    write("port", str(server.sockets[0].getsockname()[1]))
    loop.run_forever()


main()
