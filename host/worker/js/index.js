// QHub's Cloudflare Worker host: the same account-core and store-d1 components the
// native host runs (transpiled by jco, see `cargo xtask build-worker`), wired
// together here, with D1 behind the store's `sql` import, and the OAuth provider
// plugins (oauth.js) behind the `http` import (http.js). Every request goes to the
// core's HTTP API (`api.handle`: routes, validation, JSON and error bodies), except
// the few this host answers itself (routes.js); every rule lives in the components.

import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { PLUGINS, PROVIDER_PLUGINS } from './plugins.js';
import { oauthFlows } from './oauth.js';
import { sqlImport } from './d1.js';
import { match } from './routes.js';
import { ApiError } from './wire.js';

/** Largest request body read, in bytes (`MAX_BODY_BYTES` of the native server). */
const MAX_BODY_BYTES = 64 * 1024;

/** The issuer of tokens minted by a server (the native `qhub serve` uses the same). */
const SERVER_ISSUER = 'qhub';

/** `plugin "auth" 0.1.0`, as errors name a plugin. */
const label = (plugin) => `plugin ${JSON.stringify(plugin.manifest.name)} ${plugin.manifest.version}`;

/** The account core's configuration, from the Worker's secrets and variables. */
function coreConfig(env) {
  const secret = env.JWT_SECRET ?? '';
  if (secret.length < 32) {
    // Logged for the operator; the client only learns that the server is misconfigured.
    console.error(
      secret === ''
        ? 'JWT_SECRET not set; hint: `wrangler secret put JWT_SECRET` (at least 32 random bytes)'
        : 'JWT_SECRET is shorter than 32 bytes; hint: use `openssl rand -hex 32`',
    );
    throw new ApiError('internal', 'the server is misconfigured');
  }
  const config = new Map([
    ['jwt-secret', secret],
    ['issuer', SERVER_ISSUER],
  ]);
  // Operator settings the core reads; it validates them and owns the defaults.
  for (const [variable, key] of [
    ['QHUB_QUOTA_MONTHLY_JOBS', 'quota-monthly-jobs'],
    ['QHUB_QUOTA_MONTHLY_SHOTS', 'quota-monthly-shots'],
  ]) {
    if (env[variable]) config.set(key, String(env[variable]));
  }
  return config;
}

/** No filesystem, environment, arguments or network: only what the worlds import. */
function wasiImports() {
  return new WASIShim({ sandbox: { preopens: {}, env: {}, args: [], enableNetwork: false } }).getImportObject();
}

async function instantiate(plugin, imports) {
  return plugin.instantiate((name) => plugin.modules[name], { ...wasiImports(), ...imports });
}

/**
 * New instances of the backend and the core, wired the way the native host wires
 * them: the core's `store` import is the backend's `store` export.
 */
async function accountCore(env) {
  const config = coreConfig(env);
  if (!env.DB) {
    console.error('no D1 binding `DB`; hint: see [[d1_databases]] in wrangler.toml');
    throw new ApiError('internal', 'the server is misconfigured');
  }
  const backend = await instantiate(PLUGINS.storeD1, { 'qhub:plugin/sql': sqlImport(env.DB) });
  const core = await instantiate(PLUGINS.auth, {
    'qhub:plugin/store': backend.store,
    'qhub:plugin/config': { get: (key) => config.get(key) },
  });
  // The core's exported interfaces, as one object: their function names differ.
  return { ...core.accounts, ...core.identities, handle: core.api.handle };
}

/**
 * Idle wired instances, kept between requests of this isolate: instantiating both
 * components costs more CPU than a whole authenticated request (see the README's
 * measurements). An instance serves one request at a time (a suspended call must
 * not be re-entered), goes back here only after a call that returned or was
 * refused, and is dropped after anything else (a trap), so a broken instance never
 * serves again. Few are kept: each holds its memory, which Argon2id grows to
 * about 20 MiB, and an isolate has 128 MB.
 */
const idle = [];
const MAX_IDLE = 2;

/**
 * The core's exports, on a pooled instance, with its refusals turned into API
 * errors and its faults into a logged 500 naming the plugin.
 */
function lazyAccounts(env) {
  return new Proxy(
    {},
    {
      get: (_, name) => async (...args) => {
        const core = idle.pop() ?? (await accountCore(env));
        let reusable = false;
        try {
          const result = await core[name](...args);
          reusable = true;
          return result;
        } catch (err) {
          const refused = err?.payload;
          if (refused && typeof refused.code === 'string') {
            reusable = true;
            if (refused.code === 'internal') {
              // A bug or misconfiguration whose text may be the database's message:
              // logged for the operator, never sent to the client.
              console.error(`${label(PLUGINS.auth)} (over ${label(PLUGINS.storeD1)}): internal error: ${refused.message}`);
              throw new ApiError('internal', 'internal error');
            }
            throw new ApiError(refused.code, refused.message);
          }
          console.error(`${label(PLUGINS.auth)} (over ${label(PLUGINS.storeD1)}): failed: ${err?.stack ?? err}`);
          throw new ApiError('internal', 'internal error');
        } finally {
          if (reusable && idle.length < MAX_IDLE) idle.push(core);
        }
      },
    },
  );
}

/** What a route handler reads of its request. */
function context(request, url, params, env) {
  let body;
  const readBytes = async () => {
    if (body !== undefined) return body;
    const declared = Number(request.headers.get('content-length') ?? 0);
    const tooLarge = () => new ApiError('invalid-input', `request body exceeds ${MAX_BODY_BYTES} bytes`, 413);
    if (declared > MAX_BODY_BYTES) throw tooLarge();
    body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > MAX_BODY_BYTES) throw tooLarge();
    return body;
  };
  const readBody = async () => new TextDecoder().decode(await readBytes());
  return {
    params,
    query: url.searchParams,
    client: {
      userAgent: request.headers.get('user-agent') ?? undefined,
      ip: request.headers.get('cf-connecting-ip') ?? undefined,
    },
    oauth: oauthFlows(env, instantiate),
    // Every plugin this Worker carries: the core and its backend, then the OAuth
    // provider plugins it can run for QHUB_PROVIDERS, as `qhub serve` lists its own.
    plugins: [...Object.values(PLUGINS), ...Object.values(PROVIDER_PLUGINS)].map((p) => ({
      name: p.manifest.name,
      version: p.manifest.version,
      world: p.manifest.world,
      sha256: p.manifest.sha256,
    })),
    bytes: readBytes,
    async json() {
      const text = await readBody();
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new ApiError('invalid-input', `malformed JSON body: ${String(err.message).toLowerCase()}`);
      }
    },
  };
}

function respond(result) {
  if (result.status === 204) return new Response(null, { status: 204 });
  const text = JSON.stringify(result.body);
  return new Response(text, { status: result.status, headers: { 'content-type': 'application/json' } });
}

function errorResponse(err) {
  return respond({ status: err.status, body: { error: { code: err.code, message: err.message } } });
}

/**
 * Hands the request to the core's HTTP API and its response back. Only the body
 * cap and the client's address are this host's; a plugin that traps is a logged
 * 500 (lazyAccounts).
 */
async function forward(request, url, env) {
  const c = context(request, url, {}, env);
  const headers = [];
  request.headers.forEach((value, name) => headers.push([name, value]));
  const answered = await lazyAccounts(env).handle({
    method: request.method,
    target: url.pathname + url.search,
    headers,
    body: await c.bytes(),
    client: c.client,
  });
  if (answered.log !== undefined) {
    console.error(`${label(PLUGINS.auth)} (over ${label(PLUGINS.storeD1)}): internal error: ${answered.log}`);
  }
  const status = answered.status;
  const body = status === 204 || status === 304 ? null : answered.body;
  return new Response(body, { status, headers: answered.headers });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const route = match(request.method, url.pathname);
    if (route === null) {
      try {
        return await forward(request, url, env);
      } catch (err) {
        if (err instanceof ApiError) return errorResponse(err);
        console.error(`the worker failed: ${err?.stack ?? err}`);
        return errorResponse(new ApiError('internal', 'internal error'));
      }
    }
    if (route.allowed) {
      const err = new ApiError('invalid-input', `method ${request.method} not allowed here`, 405);
      const response = errorResponse(err);
      response.headers.set('allow', route.allowed.join(', '));
      return response;
    }
    try {
      return respond(await route.handler(context(request, url, route.params, env), lazyAccounts(env)));
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err);
      console.error(`the worker failed: ${err?.stack ?? err}`);
      return errorResponse(new ApiError('internal', 'internal error'));
    }
  },
};
