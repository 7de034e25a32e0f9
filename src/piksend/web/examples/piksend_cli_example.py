"""PikSend OAuth 2.0 example: a command-line app (a public client, no secret), standard library only.

    python3 piksend_cli_example.py --client-id YOUR_CLIENT_ID

Register a public app ("Runs in a browser or on a device") with the scopes profile:read and
galleries:read and the redirect URI http://127.0.0.1/callback: on a loopback address any port
matches (RFC 8252 §7.3), so this program listens on a free port the system picks, for one answer.

It reads the server's metadata, opens your browser on PikSend's sign-in and consent page (PKCE
S256 and a random state), checks `state` and `iss` on the answer, exchanges the code with its
verifier, prints your profile and galleries as JSON on stdout, then revokes the tokens: nothing
is written to disk and nothing stays valid after it exits.

Options (each also read from the environment where named):
    --server URL        PikSend's base URL (PIKSEND_URL; default: the server these docs came from)
    --client-id ID      your app's Client ID (PIKSEND_CLIENT_ID)
    --scope SCOPES      space-separated scopes (default "profile:read galleries:read")
    --no-browser        print the sign-in address on stderr instead of opening a browser
    --browser COMMAND   run COMMAND with the sign-in address as its last argument instead of the
                        system browser (PIKSEND_BROWSER); a test passes a stand-in here
    --save FILE         keep the refresh token in FILE (created with mode 0600) instead of
                        revoking it; the next run with the same FILE refreshes it (the token
                        rotates, and FILE is rewritten) without opening a browser
    --timeout SECONDS   how long to wait for you in the browser (default 300)

Exit codes: 0 done; 1 sign-in refused, failed or timed out; 2 wrong usage; 3 PikSend could not
be reached or answered an error. Messages for people go to stderr, the JSON to stdout.
"""

import argparse
import base64
import hashlib
import json
import os
import queue
import secrets
import shlex
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer

PIKSEND_URL = "__PIKSEND_BASE_URL__"
DONE_PAGE = b"<!doctype html><title>PikSend</title><p>Done. You can close this tab and go back to the terminal."


class Failure(Exception):
    """A message for the person running the program, and the exit code that goes with it."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def request(url, form=None, token=None):
    """GET (or POST a form) and return the parsed JSON answer; raises Failure on any error."""
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = urllib.parse.urlencode(form).encode()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        detail = body.get("error_description") or body.get("error") or error.reason
        raise Failure(f"PikSend answered {error.code} at {url}: {detail}", 3) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise Failure(f"Could not reach PikSend at {url}: {error}", 3) from None


def pkce_pair():
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def wait_for_callback(server, answers, timeout):
    """The query of the first request to /callback on the loopback listener."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return answers.get(timeout=timeout)
    except queue.Empty:
        raise Failure(f"No answer from the browser within {timeout} seconds", 1) from None
    finally:
        server.shutdown()
        server.server_close()


def listener(answers):
    class Callback(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/callback":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(DONE_PAGE)))
            self.end_headers()
            self.wfile.write(DONE_PAGE)
            answers.put(dict(urllib.parse.parse_qsl(url.query)))

        def log_message(self, format, *args):  # keep the code out of the terminal
            pass

    # Port 0: the system picks a free port (RFC 8252 §7.3); 127.0.0.1, not "localhost" (§8.3).
    return HTTPServer(("127.0.0.1", 0), Callback)


def open_browser(url, args):
    if args.no_browser:
        print(f"Open this address in your browser to sign in:\n{url}", file=sys.stderr, flush=True)
    elif args.browser:
        subprocess.Popen([*shlex.split(args.browser), url])  # noqa: S603 - the user's own command
    elif not webbrowser.open(url):
        print(f"Could not open a browser. Open this address:\n{url}", file=sys.stderr, flush=True)


def sign_in(meta, args):
    """The authorization code flow through the browser; returns the token response."""
    answers = queue.Queue()
    server = listener(answers)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": args.client_id,
            "redirect_uri": redirect_uri,
            "scope": args.scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    open_browser(f"{meta['authorization_endpoint']}?{query}", args)
    answer = wait_for_callback(server, answers, args.timeout)
    if not secrets.compare_digest(answer.get("state", ""), state):
        raise Failure("The browser's answer does not match this sign-in (state mismatch)", 1)
    if answer.get("iss") != meta["issuer"]:  # RFC 9207 §2.4
        raise Failure(f"The answer did not come from {meta['issuer']}", 1)
    if "error" in answer:
        if answer["error"] == "access_denied":
            raise Failure("You denied access, so nothing was shared", 1)
        raise Failure(f"Sign-in failed: {answer.get('error_description') or answer['error']}", 1)
    form = {
        "grant_type": "authorization_code",
        "code": answer.get("code", ""),
        "redirect_uri": redirect_uri,
        "client_id": args.client_id,
        "code_verifier": verifier,
    }
    return request(meta["token_endpoint"], form)


def saved_refresh_token(path):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file).get("refresh_token")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise Failure(f"Cannot read {path}: {error}", 2) from None


def save(path, server, client_id, tokens):
    # Created 0600 and made 0600 even if it existed: the refresh token is a credential.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        record = {
            "server": server,
            "client_id": client_id,
            "refresh_token": tokens["refresh_token"],
        }
        json.dump(record, file)


def run(args):
    server = args.server.rstrip("/")
    meta = request(f"{server}/.well-known/oauth-authorization-server")
    stored = saved_refresh_token(args.save) if args.save else None
    if stored:
        form = {"grant_type": "refresh_token", "refresh_token": stored, "client_id": args.client_id}
        try:
            tokens = request(meta["token_endpoint"], form)
        except Failure as failure:
            print(f"{failure}; signing in again", file=sys.stderr)
            tokens = sign_in(meta, args)
    else:
        tokens = sign_in(meta, args)
    if args.save:
        save(args.save, server, args.client_id, tokens)
    try:
        result = {
            "scope": tokens.get("scope", ""),
            "profile": request(f"{server}/api/v1/me", token=tokens["access_token"]),
            "galleries": request(f"{server}/api/v1/galleries", token=tokens["access_token"])[
                "data"
            ],
        }
    finally:
        if not args.save:
            # Revoking the refresh token revokes its access tokens too (RFC 7009 §2.1).
            form = {"token": tokens["refresh_token"], "client_id": args.client_id}
            request(meta["revocation_endpoint"], form)
    print(json.dumps(result, indent=2))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Sign in to PikSend and list your galleries.")
    parser.add_argument("--server", default=os.environ.get("PIKSEND_URL", PIKSEND_URL))
    parser.add_argument("--client-id", default=os.environ.get("PIKSEND_CLIENT_ID"))
    parser.add_argument("--scope", default="profile:read galleries:read")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--browser", default=os.environ.get("PIKSEND_BROWSER"))
    parser.add_argument("--save", metavar="FILE")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    if not args.client_id:
        parser.error("give your app's Client ID with --client-id or PIKSEND_CLIENT_ID")
    try:
        run(args)
    except Failure as failure:
        print(f"piksend: {failure}", file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:
        print("piksend: interrupted", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
