"""Forged requests to /api/messages: with MicrosoftAppId set, only a valid Bot Framework token gets in.

The OpenID metadata and signing keys are served on loopback by a small HTTP server in a thread
(botbuilder fetches them with blocking ``requests``, so it cannot share the test's event loop). The
tokens are signed here with our own RSA key; the key set carries ``endorsements: ["msteams"]`` as
Microsoft's does. The accepted activities make the bot send nothing, so no token is ever fetched
from login.microsoftonline.com (the ``loopback_only`` fixture would fail the test if it were).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from app import CONTEXT
from settings import Settings
from tests.support.factories import make_activity, make_invoke, make_message
from tests.support.fake_connector import FakeConnector

APP_ID = "6f1c2a4e-0000-4000-8000-00000000b07a"
ISSUER = "https://api.botframework.com"
KID = "test-signing-key"


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


OUR_KEY = _new_key()
FOREIGN_KEY = _new_key()


class MetadataServer:
    """OpenID configuration and a JWKS with our public key, on 127.0.0.1, in a thread."""

    def __init__(self) -> None:
        jwk = json.loads(RSAAlgorithm.to_jwk(OUR_KEY.public_key()))
        keys = {"keys": [jwk | {"kid": KID, "use": "sig", "endorsements": ["msteams"]}]}
        requests: list[str] = []
        self.requests = requests
        self.hang_seconds = 0.0
        """While above 0, every request is held that long before it is answered (a hanging endpoint)."""
        self.released = threading.Event()
        server_ref: dict[str, Any] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                if owner.hang_seconds > 0:
                    owner.released.wait(owner.hang_seconds)
                base = f"http://127.0.0.1:{server_ref['port']}"
                if self.path == "/v1/.well-known/openidconfiguration":
                    body = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{base}/v1/.well-known/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                    }
                elif self.path == "/v1/.well-known/keys":
                    body = keys
                else:
                    self.send_error(404)
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server_ref["port"] = self._server.server_address[1]
        # a fresh path per server: botbuilder caches metadata per URL for a day, process-wide
        self.url = f"http://127.0.0.1:{server_ref['port']}/v1/.well-known/openidconfiguration"
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.05), name="openid-metadata", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def metadata() -> Iterator[MetadataServer]:
    server = MetadataServer()
    yield server
    server.close()


@pytest.fixture
def secured(settings_for: Callable[..., Settings], metadata: MetadataServer) -> Settings:
    """Settings with an app id and password, validating tokens against the local metadata."""
    return settings_for(
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="not-a-real-password",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata.url,
    )


def token(service_url: str, *, key: rsa.RSAPrivateKey = OUR_KEY, kid: str | None = KID, **claims: Any) -> str:
    """A Bot Framework channel token as Teams sends it; ``claims`` override the good defaults."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 60,
        "exp": now + 3600,
        "iat": now - 60,
        "jti": uuid.uuid4().hex,
    }
    payload |= claims
    payload = {name: value for name, value in payload.items() if value is not None}
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(payload, key, algorithm="RS256", headers=headers)


def silent_activity(service_url: str) -> dict[str, Any]:
    """An activity the bot answers with nothing at all (a member other than the bot joined)."""
    activity = make_activity("conversationUpdate", service_url, kind="groupChat")
    activity["membersAdded"] = [{"id": "29:someone-else", "name": "Someone"}]
    return activity


async def post(client: Any, activity: dict[str, Any], authorization: str | None) -> Any:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await client.post("/api/messages", json=activity, headers=headers)


async def test_a_valid_token_is_accepted(
    bot_client: Any, connector: FakeConnector, secured: Settings, metadata: MetadataServer
) -> None:
    client = await bot_client(secured)
    activity = silent_activity(connector.url)
    response = await post(client, activity, f"Bearer {token(activity['serviceUrl'])}")
    assert 200 <= response.status < 300, await response.text()
    assert metadata.requests, "the keys must come from the configured metadata URL"
    assert client.server.app[CONTEXT].db.conversations.get("19:group@thread.v2") is not None  # the turn ran
    assert connector.sent == []


async def test_installation_update_with_a_valid_token_is_accepted(
    bot_client: Any, connector: FakeConnector, secured: Settings
) -> None:
    client = await bot_client(secured)
    activity = make_activity("installationUpdate", connector.url, kind="groupChat", action="add")
    response = await post(client, activity, f"Bearer {token(activity['serviceUrl'])}")
    assert 200 <= response.status < 300, await response.text()


FORGERIES: dict[str, Callable[[str], str | None]] = {
    "no Authorization header": lambda url: None,
    "empty Authorization header": lambda url: "",
    "not a bearer token": lambda url: "Basic dXNlcjpwYXNz",
    "garbage bearer token": lambda url: "Bearer not.a.jwt",
    "signed by another key": lambda url: f"Bearer {token(url, key=FOREIGN_KEY)}",
    "signed by another key, unknown kid": lambda url: f"Bearer {token(url, key=FOREIGN_KEY, kid='someone-elses-key')}",
    "no kid": lambda url: f"Bearer {token(url, kid=None)}",
    "expired": lambda url: (
        f"Bearer {token(url, nbf=int(time.time()) - 7200, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)}"
    ),
    "not yet valid": lambda url: f"Bearer {token(url, nbf=int(time.time()) + 3600, exp=int(time.time()) + 7200)}",
    "wrong audience": lambda url: f"Bearer {token(url, aud='some-other-bot')}",
    "no audience": lambda url: f"Bearer {token(url, aud=None)}",
    "wrong issuer": lambda url: f"Bearer {token(url, iss='https://issuer.example.org')}",
    "no issuer": lambda url: f"Bearer {token(url, iss=None)}",
    "serviceurl of another service": lambda url: f"Bearer {token(url, serviceurl='https://smba.example.org/amer/')}",
    "no serviceurl": lambda url: f"Bearer {token(url, serviceurl=None)}",
    "alg none": lambda url: (
        "Bearer "
        + jwt.encode(
            {"iss": ISSUER, "aud": APP_ID, "serviceurl": url, "exp": int(time.time()) + 3600}, None, algorithm="none"
        )
    ),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_a_forged_request_is_refused_with_401_and_runs_no_turn(
    bot_client: Any, connector: FakeConnector, secured: Settings, forgery: str
) -> None:
    client = await bot_client(secured)
    activity = make_message("/help", connector.url)
    response = await post(client, activity, FORGERIES[forgery](activity["serviceUrl"]))
    assert response.status == 401, (forgery, response.status, await response.text())
    assert "Traceback" not in await response.text()
    assert client.server.app[CONTEXT].db.conversations.get("a:personal-11111111") is None  # no turn ran
    assert connector.sent == []


async def test_a_forged_card_press_is_refused_and_changes_nothing(
    bot_client: Any, connector: FakeConnector, secured: Settings
) -> None:
    client = await bot_client(secured)
    press = make_invoke("incident.resolve", {"incident_id": "x"}, connector.url)
    response = await post(client, press, f"Bearer {token(press['serviceUrl'], key=FOREIGN_KEY)}")
    assert response.status == 401
    assert client.server.app[CONTEXT].db.store.count("bot_state") == 0


async def test_an_invoke_from_another_tenant_is_refused_and_changes_nothing(
    bot_client: Any, connector: FakeConnector, settings_for: Callable[..., Settings]
) -> None:
    client = await bot_client(settings_for(ALLOWED_TENANTS="tenant-vermont"))
    press = make_invoke(
        "package.acknowledge",
        {"judiciary_code": "9000"},
        connector.url,
        channelData={"tenant": {"id": "tenant-elsewhere"}},
        conversation={"tenantId": "tenant-elsewhere"},
    )
    response = await client.post("/api/messages", json=press)
    assert response.status == 403
    db = client.server.app[CONTEXT].db
    assert db.conversations.get(press["conversation"]["id"]) is None
    assert db.audit.count() == 0 and connector.sent == []
