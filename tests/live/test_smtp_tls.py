"""SMTP over TLS against aiosmtpd: STARTTLS and implicit TLS verify the certificate, and log in."""
from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from maildaemon.config import ServerSettings
from maildaemon.send import SendError, SmtpSession

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed for a test certificate")]


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


class Recorder:
    def __init__(self):
        self.got = []

    async def handle_DATA(self, server, session, envelope):
        self.got.append((envelope.mail_from, envelope.rcpt_tos))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"triage" and auth_data.password == b"s3cret!"
    return AuthResult(success=ok, handled=False)   # handled=False: aiosmtpd answers 535 itself


@pytest.fixture
def tls_server(cert):
    from smtp import free_port
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, cert))
    servers = []

    def start(implicit: bool):
        handler = Recorder()
        port = free_port()
        kw = dict(ssl_context=context) if implicit else dict(tls_context=context, require_starttls=True)
        # PLAIN only, what most submission servers offer over TLS
        c = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                       auth_require_tls=not implicit, auth_exclude_mechanism=["LOGIN"], **kw)
        if implicit:   # aiosmtpd's readiness probe would verify our self-signed certificate: do it by hand
            c._trigger_server = lambda: _greet(port)
        c.start()
        servers.append(c)
        return handler, port

    yield start
    for c in servers:
        c.stop()


def _greet(port: int) -> None:
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ssl._create_unverified_context().wrap_socket(raw) as tls:
            tls.recv(1024)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_is_verified_and_login_works(tls_server, cert, security, monkeypatch):
    handler, port = tls_server(implicit=security == "ssl")
    settings = ServerSettings(host="127.0.0.1", port=port, user="triage", password="s3cret!", security=security)
    with pytest.raises(SendError) as refused:              # an unknown certificate is refused ...
        SmtpSession(settings, timeout=10)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value) and "s3cret!" not in str(refused.value)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))       # ... a trusted one is accepted
    session = SmtpSession(settings, timeout=10)
    session.send("triage@example.org", ["ada@example.org"], b"Subject: hi\n\nhello\n")
    session.close()
    assert handler.got == [("triage@example.org", ["ada@example.org"])]


def test_wrong_smtp_password_names_the_user_not_the_password(tls_server, cert, monkeypatch):
    _, port = tls_server(implicit=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    settings = ServerSettings(host="127.0.0.1", port=port, user="triage", password="wrong-Pa55", security="starttls")
    with pytest.raises(SendError) as e:
        SmtpSession(settings, timeout=10)
    assert "login refused for triage" in str(e.value) and "wrong-Pa55" not in str(e.value)
