"""PikSend OAuth 2.0 example: Authorization Code flow with PKCE, Python standard library only.

    PIKSEND_CLIENT_ID=... PIKSEND_CLIENT_SECRET=... python3 piksend_example.py

Register http://localhost:5000/callback as a redirect URI of your app (or set HOST, PORT),
then open http://localhost:5000/ in your browser.
"""

import base64
import hashlib
import html
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PIKSEND_URL = "__PIKSEND_BASE_URL__"
CLIENT_ID = os.environ["PIKSEND_CLIENT_ID"]
CLIENT_SECRET = os.environ["PIKSEND_CLIENT_SECRET"]
HOST = os.environ.get("HOST", "localhost")
PORT = int(os.environ.get("PORT", "5000"))
REDIRECT_URI = f"http://{HOST}:{PORT}/callback"
SCOPE = os.environ.get("SCOPE", "profile:read galleries:read")

SESSIONS = {}  # session id -> dict; a real app uses its framework's server-side session


def generate_pkce():
    verifier = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return verifier, challenge


def call(method, path, body=None, token=None):
    """A JSON request to PikSend; returns (status, parsed body)."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(PIKSEND_URL + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        session = self.session()
        if url.path == "/":
            self.page(200, '<a href="/auth">Connect with PikSend</a>')
        elif url.path == "/auth":
            # Step 1: send the user to PikSend with a fresh PKCE pair and state.
            verifier, challenge = generate_pkce()
            session["code_verifier"] = verifier
            session["state"] = secrets.token_urlsafe(16)
            params = {
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT_URI,
                "response_type": "code",
                "scope": SCOPE,
                "state": session["state"],
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
            self.redirect(PIKSEND_URL + "/api/oauth/authorize?" + urllib.parse.urlencode(params))
        elif url.path == "/callback":
            # Step 2: check state, then exchange the code (with the verifier) for tokens.
            if not query.get("state") or query.get("state") != session.pop("state", None):
                return self.page(400, "Invalid state")
            if "error" in query:
                return self.page(400, html.escape(f"Authorization failed: {query['error']}"))
            status, tokens = call(
                "POST",
                "/api/oauth/token",
                {
                    "grant_type": "authorization_code",
                    "code": query.get("code", ""),
                    "redirect_uri": REDIRECT_URI,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "code_verifier": session.pop("code_verifier", ""),
                },
            )
            if status != 200:
                return self.page(400, html.escape(f"Token exchange failed: {tokens}"))
            session["access_token"] = tokens["access_token"]
            session["refresh_token"] = tokens["refresh_token"]
            session["scope"] = tokens["scope"]
            self.redirect("/profile")
        elif url.path == "/profile":
            # Step 3: call the API with the access token.
            status, body = call("GET", "/api/v1/me", token=session.get("access_token"))
            scope = html.escape(str(session.get("scope")))
            shown = html.escape(json.dumps(body, indent=2))
            self.page(
                200,
                f"<p>Granted: <span id=scope>{scope}</span></p>"
                f"<p>API status: <span id=status>{status}</span></p>"
                f"<pre id=body>{shown}</pre>",
            )
        elif url.path == "/logout":
            # Revoking the refresh token revokes the access tokens issued with it.
            if session.get("refresh_token"):
                call(
                    "POST",
                    "/api/oauth/revoke",
                    {
                        "token": session["refresh_token"],
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                    },
                )
            session.clear()
            self.redirect("/")
        else:
            self.page(404, "Not found")

    def session(self):
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        sid = cookie["example_sid"].value if "example_sid" in cookie else ""
        if sid not in SESSIONS:
            sid = secrets.token_urlsafe(16)
            SESSIONS[sid] = {}
        self.sid = sid
        return SESSIONS[sid]

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.finish_headers()

    def page(self, status, body):
        data = f"<!doctype html><title>PikSend example</title>{body}".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.finish_headers()
        self.wfile.write(data)

    def finish_headers(self):
        self.send_header("Set-Cookie", f"example_sid={self.sid}; HttpOnly; SameSite=Lax; Path=/")
        self.end_headers()


if __name__ == "__main__":
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    print(f"Listening on http://{HOST}:{PORT}/", flush=True)
    server.serve_forever()
