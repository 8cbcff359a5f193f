// The HTTP API's routes (the table in host/api/src/lib.rs), each a thin translation
// from a request to one call on the account core and from its answer to JSON.
// No rule lives here: the core decides what is valid, who may do what, and how long
// anything lasts.

import * as wire from './wire.js';
import { ApiError, fields, JOB_STATUSES } from './wire.js';

const json = (status, body) => ({ status, body });
const noContent = () => ({ status: 204 });

/** Route table: method, path pattern, handler(request context, accounts). */
export const ROUTES = [
  ['GET', '/healthz', () => json(200, { status: 'ok' })],
  ['GET', '/v1/openapi.json', (c) => ({ status: 200, raw: c.openapi })],
  ['GET', '/v1/plugins', (c) => json(200, c.plugins)],
  [
    'POST',
    '/v1/accounts',
    async (c, a) => {
      const b = fields(await c.json(), {
        email: ['string', true],
        password: ['string', true],
        display_name: ['string', false],
      });
      const request = { email: b.email, password: b.password, displayName: b.display_name };
      return json(201, wire.signedIn(await a.register(request, c.client)));
    },
  ],
  [
    'POST',
    '/v1/sessions',
    async (c, a) => {
      const b = fields(await c.json(), { email: ['string', true], password: ['string', true] });
      return json(200, wire.signedIn(await a.login(b.email, b.password, c.client)));
    },
  ],
  ['DELETE', '/v1/sessions/current', async (c, a) => (await a.logout(c.bearer()), noContent())],
  ['GET', '/v1/sessions', async (c, a) => json(200, (await a.listSessions(c.bearer())).map(wire.session))],
  ['DELETE', '/v1/sessions', async (c, a) => json(200, { revoked: await a.logoutAll(c.bearer()) })],
  [
    'POST',
    '/v1/sessions/revoke-others',
    async (c, a) => json(200, { revoked: await a.revokeOtherSessions(c.bearer()) }),
  ],
  ['DELETE', '/v1/sessions/{id}', async (c, a) => (await a.revokeSession(c.bearer(), c.params.id), noContent())],
  [
    'PUT',
    '/v1/password',
    async (c, a) => {
      const b = fields(await c.json(), {
        current_password: ['string', true],
        new_password: ['string', true],
      });
      await a.changePassword(c.bearer(), b.current_password, b.new_password);
      return noContent();
    },
  ],
  // Raw text, so preference numbers keep their digits (see wire.preferencesText).
  ['GET', '/v1/preferences', async (c, a) => ({ status: 200, raw: wire.preferencesText(await a.listPreferences(c.bearer())) })],
  [
    'PUT',
    '/v1/preferences/{key}',
    // The body goes to the core as text: the core decides what a valid value is.
    async (c, a) => (await a.setPreference(c.bearer(), c.params.key, await c.text()), noContent()),
  ],
  [
    'DELETE',
    '/v1/preferences/{key}',
    async (c, a) => (await a.unsetPreference(c.bearer(), c.params.key), noContent()),
  ],
  ['GET', '/v1/usage', async (c, a) => json(200, wire.usage(await a.getUsage(c.bearer())))],
  [
    'POST',
    '/v1/jobs',
    async (c, a) => {
      const b = fields(await c.json(), {
        source: ['string', true],
        shots: ['u32', true],
        backend: ['string', false],
      });
      const request = { source: b.source, shots: b.shots, backend: b.backend };
      return json(201, wire.job(await a.submitJob(c.bearer(), request)));
    },
  ],
  [
    'GET',
    '/v1/jobs',
    async (c, a) => {
      const status = c.query.get('status') ?? undefined;
      if (status !== undefined && !JOB_STATUSES.includes(status)) {
        throw new ApiError(
          'invalid-input',
          `unknown job status ${JSON.stringify(status)}: use queued, running, completed, failed or cancelled`,
        );
      }
      return json(200, (await a.listJobs(c.bearer(), status)).map(wire.job));
    },
  ],
  ['GET', '/v1/jobs/{id}', async (c, a) => json(200, wire.job(await a.getJob(c.bearer(), c.params.id)))],
  ['POST', '/v1/jobs/{id}/cancel', async (c, a) => json(200, wire.job(await a.cancelJob(c.bearer(), c.params.id)))],
  [
    'POST',
    '/v1/keys',
    async (c, a) => {
      const b = fields(await c.json(), {
        name: ['string', true],
        scopes: ['string[]', false],
        expires_in: ['u64', false],
      });
      const expiresIn = b.expires_in === undefined ? undefined : BigInt(b.expires_in);
      // Absent scopes stay absent (the core's default); `[]` goes to the core, which refuses it.
      return json(201, wire.newApiKey(await a.createApiKey(c.bearer(), b.name, b.scopes ?? undefined, expiresIn)));
    },
  ],
  ['GET', '/v1/keys', async (c, a) => json(200, (await a.listApiKeys(c.bearer())).map(wire.apiKey))],
  ['DELETE', '/v1/keys/{id}', async (c, a) => (await a.revokeApiKey(c.bearer(), c.params.id), noContent())],
  ['GET', '/v1/account/export', async (c, a) => ({ status: 200, raw: await a.exportAccount(c.bearer()) })],
  ['DELETE', '/v1/account', async (c, a) => (await a.deleteAccount(c.bearer()), noContent())],
  ['GET', '/v1/me', async (c, a) => json(200, wire.profile(await a.whoami(c.bearer())))],
  [
    'GET',
    '/v1/account/connections',
    async (c, a) => json(200, (await a.listConnections(c.bearer())).map(wire.connection)),
  ],
  [
    'DELETE',
    '/v1/account/connections/{id}',
    async (c, a) => (await a.unlinkConnection(c.bearer(), c.params.id), noContent()),
  ],
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
