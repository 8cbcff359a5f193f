// QHub's Cloudflare Worker host: the same account-core and store-d1 components the
// native host runs (transpiled by jco, see `cargo xtask build-worker`), wired
// together here, with D1 behind the store's `sql` import, and the OAuth provider
// plugins (oauth.js) behind the core's `oauth` import, each with the `http` of a
// provider gateway component, which applies the native host's outbound rules over
// one plain `fetch` per hop (http.js). Every request goes to the core's HTTP API (`api.handle`:
// routes, validation, JSON and error bodies, the OAuth sign-in sequence), except
// `GET /v1/plugins`, which only this host can answer; every rule lives in the
// components.

import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { CORE_CONFIG, PLUGINS, PROVIDER_PLUGINS } from './plugins.js';
import { oauthImport } from './oauth.js';
import { sqlImport } from './d1.js';

/** An answer of this host's own: a status and `{"error": {"code", "message"}}`. */
class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const internal = (message) => new ApiError('internal', message, 500);

/** Largest request body read, in bytes (`MAX_BODY_BYTES` of the native server). */
const MAX_BODY_BYTES = 1024 * 1024;


/** `plugin "auth" 0.1.0`, as errors name a plugin on every host. */
const label = (plugin) => `plugin ${plugin.manifest.label}`;

/**
 * The account core's configuration, from the Worker's secrets and variables. The
 * core alone decides whether it is usable (`api.check-config`, asked once per
 * isolate in `accountCore`).
 */
function coreConfig(env) {
  const config = new Map([[CORE_CONFIG.issuer, CORE_CONFIG.serverIssuer]]);
  if (env.JWT_SECRET) config.set(CORE_CONFIG.jwtSecret, String(env.JWT_SECRET));
  // Operator settings the core reads; it validates them and owns the defaults.
  for (const [variable, key] of CORE_CONFIG.fromEnvironment) {
    if (env[variable]) config.set(key, String(env[variable]));
  }
  return config;
}

/**
 * The core's verdict on this isolate's configuration, asked once (variables and
 * secrets do not change within an isolate): undefined until asked, then null
 * when accepted, or what is wrong, logged once and answered as 500 from then on.
 */
let configVerdict;

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
  if (typeof configVerdict === 'string') throw internal('the server is misconfigured');
  const config = coreConfig(env);
  if (!env.DB) {
    console.error('no D1 binding `DB`; hint: see [[d1_databases]] in wrangler.toml');
    throw internal('the server is misconfigured');
  }
  const backend = await instantiate(PLUGINS.storeD1, { 'qhub:plugin/sql': sqlImport(env.DB) });
  const core = await instantiate(PLUGINS.auth, {
    'qhub:plugin/store': backend.store,
    'qhub:provider/config': { get: (key) => config.get(key) },
    'qhub:plugin/oauth': oauthImport(env, instantiate),
  });
  if (configVerdict === undefined) {
    const problem = await core.api.checkConfig();
    configVerdict = problem ?? null;
    if (problem !== undefined) {
      // Logged for the operator; the client only learns that the server is misconfigured.
      console.error(
        `${label(PLUGINS.auth)} refuses its configuration: ${problem}; hint: ${CORE_CONFIG.settingsHint}; ` +
          `\`wrangler secret put JWT_SECRET\` with at least ${CORE_CONFIG.minJwtSecretBytes} random bytes`,
      );
      throw internal('the server is misconfigured');
    }
  }
  return core.api;
}

/**
 * Idle wired instances, kept between requests of this isolate: instantiating both
 * components costs more CPU than a whole authenticated request (see the README's
 * measurements). An instance serves one request at a time (a suspended call must
 * not be re-entered), goes back here only after a call that answered, and is
 * dropped after anything else (a trap), so a broken instance never serves again.
 * Few are kept: each holds its memory, which Argon2id grows to about 20 MiB, and
 * an isolate has 128 MB.
 */
const idle = [];
const MAX_IDLE = 2;

/** `api.handle` on a pooled instance; a trap is a logged 500 naming the plugin. */
async function handle(env, request) {
  const api = idle.pop() ?? (await accountCore(env));
  let answered;
  try {
    answered = await api.handle(request);
  } catch (err) {
    console.error(`${label(PLUGINS.auth)} (over ${label(PLUGINS.storeD1)}): failed: ${err?.stack ?? err}`);
    throw internal('internal error');
  }
  if (idle.length < MAX_IDLE) idle.push(api);
  return answered;
}

/** The body, at most MAX_BODY_BYTES (413 beyond, before the core runs). */
async function body(request) {
  const tooLarge = () => new ApiError('invalid-input', `request body exceeds ${MAX_BODY_BYTES} bytes`, 413);
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
  return bytes;
}

function json(status, value) {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
}

function errorResponse(err) {
  return json(err.status, { error: { code: err.code, message: err.message } });
}

/**
 * `GET /v1/plugins`: every plugin this Worker carries, the core and its backend,
 * then the OAuth provider plugins it can run for QHUB_PROVIDERS, as `qhub serve`
 * lists its own.
 */
function plugins() {
  return json(
    200,
    [...Object.values(PLUGINS), ...Object.values(PROVIDER_PLUGINS)].map((p) => ({
      name: p.manifest.name,
      version: p.manifest.version,
      world: p.manifest.world,
      sha256: p.manifest.sha256,
    })),
  );
}

/**
 * Hands the request to the core's HTTP API and its response back. Only the body
 * cap and the client's address are this host's.
 */
async function forward(request, url, env) {
  const headers = [];
  request.headers.forEach((value, name) => headers.push([name, value]));
  const answered = await handle(env, {
    method: request.method,
    target: url.pathname + url.search,
    headers,
    body: await body(request),
    client: {
      userAgent: request.headers.get('user-agent') ?? undefined,
      ip: request.headers.get('cf-connecting-ip') ?? undefined,
    },
  });
  if (answered.log !== undefined) {
    console.error(`${label(PLUGINS.auth)} (over ${label(PLUGINS.storeD1)}): ${answered.log}`);
  }
  const status = answered.status;
  return new Response(status === 204 || status === 304 ? null : answered.body, {
    status,
    headers: answered.headers,
  });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      // Other methods on the path get the core's JSON 405, as every route does.
      if (url.pathname === '/v1/plugins' && ['GET', 'HEAD'].includes(request.method)) return plugins();
      return await forward(request, url, env);
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err);
      console.error(`the worker failed: ${err?.stack ?? err}`);
      return errorResponse(internal('internal error'));
    }
  },
};
