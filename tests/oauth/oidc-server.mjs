// A real OpenID Connect provider (the `oidc-provider` npm package) on loopback, for
// QHub's OAuth tests. Prints one JSON line `{"issuer": "http://127.0.0.1:PORT"}` on
// stdout when it is ready, then serves until killed.
//
// Usage: node tests/oauth/oidc-server.mjs '[{"sub": "u1", "email": "ada@example.com",
//        "email_verified": true, "name": "Ada"}]'
// (or the same JSON in QHUB_OIDC_ACCOUNTS).
//
// One client, `qhub-cli`: public (no secret), PKCE required, device code +
// authorization code + refresh token grants, redirect URI http://127.0.0.1/callback
// on any port (a native client's loopback redirect, RFC 8252 section 7.3).
//
// Interactions: the development login pages are disabled. Instead this file answers
// /interaction/:uid itself, test-only: a login form whose `account` field names the
// account (the test acts as the browser and posts it), and consent granted at once.

import http from 'node:http';
import Provider from 'oidc-provider';

const accountsJson = process.argv[2] ?? process.env.QHUB_OIDC_ACCOUNTS ?? '[]';
const accounts = new Map(JSON.parse(accountsJson).map((a) => [a.sub, a]));

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'qhub-cli',
      client_name: 'QHub CLI',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: [
        'urn:ietf:params:oauth:grant-type:device_code',
        'authorization_code',
        'refresh_token',
      ],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ],
  // Every authorization-code request must carry an S256 challenge.
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
  },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: account.email,
          email_verified: account.email_verified,
          name: account.name,
        };
      },
    };
  },
  // Signed cookies need keys; these only ever protect loopback test sessions.
  cookies: { keys: ['qhub-test-only-cookie-key'] },
});

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function send(res, status, text) {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(text);
}

/** Grants everything the consent prompt asks for. */
async function grantConsent(interaction) {
  const { prompt: { details }, params, session } = interaction;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  if (details.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return grant.save();
}

async function interactions(req, res) {
  const path = new URL(req.url, issuer).pathname;
  const interaction = await provider.interactionDetails(req, res);
  if (req.method === 'POST' && path.endsWith('/login')) {
    const account = (await readForm(req)).get('account');
    if (!accounts.has(account)) {
      return send(res, 400, `unknown account ${JSON.stringify(account)}`);
    }
    return provider.interactionFinished(req, res, { login: { accountId: account } });
  }
  if (req.method === 'GET' && interaction.prompt.name === 'consent') {
    const grantId = await grantConsent(interaction);
    return provider.interactionFinished(req, res, { consent: { grantId } });
  }
  if (req.method === 'GET' && interaction.prompt.name === 'login') {
    return send(res, 200, `<!DOCTYPE html><form method="post" action="/interaction/${interaction.uid}/login">
<input name="account"><button>Sign in</button></form>`);
  }
  return send(res, 400, `unexpected interaction ${interaction.prompt.name}`);
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interactions(req, res).catch((err) => send(res, 500, String(err)));
  } else {
    callback(req, res);
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
