// oauth4webapi as a public client (token_endpoint_auth_method "none") against a live piksend serve.
//
// Driven by tests/conformance/test_public_clients.py over stdin and stdout, one JSON line each way:
//   argv:  <issuer> <client_id> <redirect_uri> <scope>
//   out:   {"authorization_url": "..."}            (PKCE S256, state; the verifier stays in here)
//   in:    the authorization response URL the server redirected the browser to
//   out:   what the code exchange, a call to /api/v1/galleries, a refresh and a revocation gave,
//          with no token value in it (only facts the test can assert exactly)
// The server is http on loopback, so every request allows insecure transport (RFC 8252 §8.3).

import * as oauth from "oauth4webapi";
import { createInterface } from "node:readline";

const [issuerArg, clientId, redirectUri, scope] = process.argv.slice(2);
const issuer = new URL(issuerArg);
const insecure = { [oauth.allowInsecureRequests]: true };
const client = { client_id: clientId, token_endpoint_auth_method: "none" };
const clientAuth = oauth.None();

function line(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function readLine() {
  const rl = createInterface({ input: process.stdin });
  for await (const text of rl) {
    rl.close();
    return text.trim();
  }
  throw new Error("stdin closed before the authorization response URL arrived");
}

// oauth4webapi throws on a WWW-Authenticate challenge; the challenge's error code is the answer then.
async function galleries(accessToken) {
  let response;
  try {
    response = await oauth.protectedResourceRequest(
      accessToken,
      "GET",
      new URL("/api/v1/galleries", issuer),
      undefined,
      undefined,
      insecure,
    );
  } catch (error) {
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      return { status: error.status, error: error.cause[0].parameters.error };
    }
    throw error;
  }
  const body = await response.json();
  return { status: response.status, titles: body.data.map((g) => g.title) };
}

async function oauthError(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      return { status: error.status, error: error.error };
    }
    throw error;
  }
}

const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
);

const codeVerifier = oauth.generateRandomCodeVerifier();
const state = oauth.generateRandomState();
const authorizationUrl = new URL(as.authorization_endpoint);
authorizationUrl.search = new URLSearchParams({
  response_type: "code",
  client_id: clientId,
  redirect_uri: redirectUri,
  scope,
  state,
  code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: "S256",
}).toString();
line({ authorization_url: authorizationUrl.href });

const callback = new URL(await readLine());
const params = oauth.validateAuthResponse(as, client, callback, state);
const tokens = await oauth.processAuthorizationCodeResponse(
  as,
  client,
  await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    redirectUri,
    codeVerifier,
    insecure,
  ),
);
const firstCall = await galleries(tokens.access_token);

const refreshed = await oauth.processRefreshTokenResponse(
  as,
  client,
  await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, insecure),
);
const afterRefresh = await galleries(refreshed.access_token);

await oauth.processRevocationResponse(
  await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token, insecure),
);
const afterRevocation = await galleries(refreshed.access_token);
const refreshAfterRevocation = await oauthError(
  oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token, insecure),
  ),
);

line({
  metadata: {
    issuer: as.issuer,
    token_endpoint_auth_methods_supported: as.token_endpoint_auth_methods_supported,
  },
  exchange: {
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    scope: tokens.scope,
    has_refresh_token: typeof tokens.refresh_token === "string",
  },
  galleries: firstCall,
  refresh: {
    token_type: refreshed.token_type,
    scope: refreshed.scope,
    rotated: refreshed.refresh_token !== tokens.refresh_token,
    new_access_token: refreshed.access_token !== tokens.access_token,
  },
  galleries_after_refresh: afterRefresh,
  galleries_after_revocation: afterRevocation,
  refresh_after_revocation: refreshAfterRevocation,
});
