// PikSend OAuth 2.0 example: Authorization Code flow with PKCE, Node.js 18+ built-ins only.
//
//   PIKSEND_CLIENT_ID=... PIKSEND_CLIENT_SECRET=... node piksend_example.js
//
// Register http://localhost:3000/callback as a redirect URI of your app (or set HOST, PORT),
// then open http://localhost:3000/ in your browser.
'use strict';
const crypto = require('crypto');
const http = require('http');

const PIKSEND_URL = '__PIKSEND_BASE_URL__';
const CLIENT_ID = process.env.PIKSEND_CLIENT_ID;
const CLIENT_SECRET = process.env.PIKSEND_CLIENT_SECRET;
const HOST = process.env.HOST || 'localhost';
const PORT = Number(process.env.PORT || 3000);
const REDIRECT_URI = `http://${HOST}:${PORT}/callback`;
const SCOPE = process.env.SCOPE || 'profile:read galleries:read';

const sessions = new Map(); // session id -> object; a real app uses a server-side session store

function generatePKCE() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

// A JSON request to PikSend; resolves to { status, body }.
async function call(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(PIKSEND_URL + path, {
    method, headers, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function handle(req, res, session) {
  const url = new URL(req.url, REDIRECT_URI);
  const page = (status, body) => {
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>PikSend example</title>${body}`);
  };
  const redirect = (location) => { res.writeHead(302, { Location: location }); res.end(); };

  if (url.pathname === '/') return page(200, '<a href="/auth">Connect with PikSend</a>');
  if (url.pathname === '/auth') {
    // Step 1: send the user to PikSend with a fresh PKCE pair and state.
    const { verifier, challenge } = generatePKCE();
    session.codeVerifier = verifier;
    session.state = crypto.randomBytes(16).toString('hex');
    const authUrl = new URL(PIKSEND_URL + '/api/oauth/authorize');
    authUrl.searchParams.set('client_id', CLIENT_ID);
    authUrl.searchParams.set('redirect_uri', REDIRECT_URI);
    authUrl.searchParams.set('response_type', 'code');
    authUrl.searchParams.set('scope', SCOPE);
    authUrl.searchParams.set('state', session.state);
    authUrl.searchParams.set('code_challenge', challenge);
    authUrl.searchParams.set('code_challenge_method', 'S256');
    return redirect(authUrl.toString());
  }
  if (url.pathname === '/callback') {
    // Step 2: check state, then exchange the code (with the verifier) for tokens.
    const state = url.searchParams.get('state');
    const expected = session.state;
    delete session.state;
    if (!state || state !== expected) return page(400, 'Invalid state');
    if (url.searchParams.has('error')) {
      return page(400, `Authorization failed: ${escapeHtml(url.searchParams.get('error'))}`);
    }
    const { status, body } = await call('POST', '/api/oauth/token', {
      grant_type: 'authorization_code',
      code: url.searchParams.get('code'),
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      code_verifier: session.codeVerifier,
    });
    if (status !== 200) return page(400, `Token exchange failed: ${escapeHtml(JSON.stringify(body))}`);
    Object.assign(session, {
      accessToken: body.access_token, refreshToken: body.refresh_token, scope: body.scope,
    });
    return redirect('/profile');
  }
  if (url.pathname === '/profile') {
    // Step 3: call the API with the access token.
    const { status, body } = await call('GET', '/api/v1/me', null, session.accessToken);
    return page(200, `<p>Granted: <span id=scope>${escapeHtml(session.scope)}</span></p>` +
      `<p>API status: <span id=status>${status}</span></p>` +
      `<pre id=body>${escapeHtml(JSON.stringify(body, null, 2))}</pre>`);
  }
  if (url.pathname === '/logout') {
    // Revoking the refresh token revokes the access tokens issued with it.
    if (session.refreshToken) {
      await call('POST', '/api/oauth/revoke', {
        token: session.refreshToken, client_id: CLIENT_ID, client_secret: CLIENT_SECRET,
      });
    }
    for (const key of Object.keys(session)) delete session[key];
    return redirect('/');
  }
  return page(404, 'Not found');
}

http.createServer((req, res) => {
  const match = /(?:^|;\s*)example_sid=([\w-]+)/.exec(req.headers.cookie || '');
  let sid = match && sessions.has(match[1]) ? match[1] : null;
  if (!sid) { sid = crypto.randomBytes(16).toString('hex'); sessions.set(sid, {}); }
  res.setHeader('Set-Cookie', `example_sid=${sid}; HttpOnly; SameSite=Lax; Path=/`);
  handle(req, res, sessions.get(sid)).catch((error) => {
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(`Error: ${error.message}`);
  });
}).listen(PORT, HOST, () => console.log(`Listening on http://${HOST}:${PORT}/`));
