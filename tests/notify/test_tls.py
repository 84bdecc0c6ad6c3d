"""HTTPS webhooks: the certificate is verified against the URL's host name, also when the address was pinned."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time

import pytest

from pigate.errors import NotifyError
from pigate.notify import ConnectFailed, Notifier, NotifyConfig, messages
from tests.notify.webapp import Reply, WebApp

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a certificate")


@pytest.fixture
def tls_app(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    app = WebApp(tls=server_ctx).start()
    app.route("/hook", Reply(200, b"<Response/>"))
    client_ctx = ssl.create_default_context(cafile=str(cert))
    yield app, client_ctx
    app.stop()


def test_https_post_with_a_trusted_certificate(tls_app):
    app, ctx = tls_app
    n = Notifier(config=NotifyConfig(retries=0), ssl_context=ctx)
    assert n.post(f"https://localhost:{app.port}/hook", messages.goto()) == "<Response/>"
    assert app.requests[0].body == b"NotificationName=GoTo"


def test_an_untrusted_or_mismatched_certificate_is_refused_without_retries(tls_app):
    app, ctx = tls_app
    slept: list[float] = []
    untrusted = Notifier(config=NotifyConfig(retries=2), sleep=slept.append)
    with pytest.raises(NotifyError, match="TLS") as info:
        untrusted.post(f"https://localhost:{app.port}/hook", messages.goto())
    assert not isinstance(info.value, ConnectFailed) and slept == []
    start = time.monotonic()
    with pytest.raises(NotifyError, match="TLS"):  # the certificate names localhost, not 127.0.0.1
        Notifier(config=NotifyConfig(retries=0), ssl_context=ctx).post(f"https://127.0.0.1:{app.port}/hook",
                                                                       messages.goto())
    assert time.monotonic() - start < 2
    assert app.requests == []
