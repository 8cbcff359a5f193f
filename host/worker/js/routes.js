// The routes this host answers itself (`handler: Host` in host/api/src/lib.rs's
// table): the plugins it runs, and the OAuth routes, whose sequence over provider
// plugins (oauth.js) it still drives. Every other request goes to the account
// core's HTTP API (index.js), which answers it, 404 and 405 included.

import * as wire from './wire.js';
import { fields } from './wire.js';

const json = (status, body) => ({ status, body });

/** Route table: method, path pattern, handler(request context, accounts). */
export const ROUTES = [
  ['GET', '/v1/plugins', (c) => json(200, c.plugins)],
  // OAuth sign-in at a provider the operator configured (QHUB_PROVIDERS): the
  // provider plugin runs the protocol, the core signs the identity in.
  [
    'GET',
    '/v1/oauth/providers',
    async (c) =>
      json(
        200,
        (await c.oauth.list()).map(({ name, metadata }) => ({
          name,
          display_name: metadata.displayName,
          device_flow: metadata.supportsDeviceFlow,
          web_flow: metadata.supportsWebFlow,
        })),
      ),
  ],
  [
    'POST',
    '/v1/oauth/{provider}/device',
    async (c) => {
      const b = fields(await c.json(), { scopes: ['string[]', false] });
      const d = await c.oauth.startDevice(c.params.provider, b.scopes ?? []);
      return json(200, {
        device_code: d.deviceCode,
        user_code: d.userCode,
        verification_uri: d.verificationUri,
        verification_uri_complete: d.verificationUriComplete ?? null,
        expires_in: d.expiresIn,
        interval: d.interval,
      });
    },
  ],
  [
    'POST',
    '/v1/oauth/{provider}/device/token',
    // 200 with a session once approved; 202 with `pending` or `slow_down` before.
    async (c, a) => {
      const b = fields(await c.json(), { device_code: ['string', true] });
      const poll = await c.oauth.pollDevice(a, c.params.provider, b.device_code, c.client);
      if (poll.signedIn) return json(200, wire.signedIn(poll.signedIn));
      return json(
        202,
        poll.slowDown === undefined ? { status: 'pending' } : { status: 'slow_down', interval: poll.slowDown },
      );
    },
  ],
  [
    'POST',
    '/v1/oauth/{provider}/authorize',
    async (c) => {
      const b = fields(await c.json(), {
        redirect_uri: ['string', true],
        state: ['string', true],
        code_challenge: ['string', true],
        scopes: ['string[]', false],
      });
      const url = await c.oauth.authorizationUrl(
        c.params.provider,
        b.redirect_uri,
        b.state,
        b.code_challenge,
        b.scopes ?? [],
      );
      return json(200, { url });
    },
  ],
  [
    'POST',
    '/v1/oauth/{provider}/token',
    async (c, a) => {
      const b = fields(await c.json(), {
        code: ['string', true],
        redirect_uri: ['string', true],
        code_verifier: ['string', true],
      });
      const signedIn = await c.oauth.exchangeCode(
        a,
        c.params.provider,
        b.code,
        b.redirect_uri,
        b.code_verifier,
        c.client,
      );
      return json(200, wire.signedIn(signedIn));
    },
  ],
];

/** Compiled once: each pattern as a regular expression with named groups. */
const COMPILED = ROUTES.map(([method, pattern, handler]) => {
  const source = pattern
    .split('/')
    .map((part) => (part.startsWith('{') ? `(?<${part.slice(1, -1)}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return { method, pattern, regex: new RegExp(`^${source}$`), handler };
});

/**
 * The handler for a method and path, with the path's parameters. Literal routes win
 * over parameterised ones (`/v1/sessions/current` before `/v1/sessions/{id}`), as
 * in the native router. `null` when no route has the path; `{allowed}` when only
 * the method is wrong.
 */
export function match(method, path) {
  const hits = COMPILED.filter((r) => r.regex.test(path));
  if (hits.length === 0) return null;
  const forMethod = hits.filter((r) => r.method === method);
  if (forMethod.length === 0) return { allowed: hits.map((r) => r.method) };
  forMethod.sort((x, y) => x.pattern.split('{').length - y.pattern.split('{').length);
  const route = forMethod[0];
  const groups = route.regex.exec(path).groups ?? {};
  const params = Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, decodeURIComponent(v)]));
  return { handler: route.handler, params };
}
