// The account core's `oauth` import in the Worker (wit/oauth.wit), as
// host/runtime/src/oauth.rs implements it natively: each call goes to the named
// provider's plugin, instantiated with its configuration and the allow-listed
// `http` import (http.js). The sign-in sequence and what each outcome means for
// the API are the core's; this only forwards and reports failures.
//
// The operator configures providers in the variable QHUB_PROVIDERS, the JSON form
// of the native providers.toml, with the same `QHUB_PROVIDER_<NAME>_<KEY>`
// overrides (client secrets belong there, as Worker secrets):
//   {"NAME": {"plugin": "oauth-oidc", "grant": ["https://login.example.com"],
//             "config": {"issuer": "https://login.example.com", "client-id": "..."}}}
// Plugins are stateless, so each request gets fresh provider instances.

import { PROVIDER_PLUGINS } from './plugins.js';
import { allowList, httpImport, OriginError } from './http.js';

/** The prefix of the variables that set provider config values. */
const ENV_PREFIX = 'QHUB_PROVIDER_';

/** `"oauth-oidc" 0.1.0`, as the native host labels a plugin. */
const label = (manifest) => `${JSON.stringify(manifest.name)} ${manifest.version}`;

/** A provider name as it appears in a variable: uppercase, `-` as `_`. */
const envName = (name) => name.toUpperCase().replaceAll('-', '_');

/** Thrown to make an `oauth` import return `err(failure)`: jco reads `payload`. */
export class OAuthFailure extends Error {
  constructor(tag, val) {
    super(`${tag}: ${val}`);
    this.payload = { tag, val };
  }
}

const misconfigured = (message) => {
  // Logged for the operator; the client only learns that the server is misconfigured.
  console.error(`QHUB_PROVIDERS: ${message}`);
  return new OAuthFailure('misconfigured', 'the server is misconfigured');
};

const FORMAT_HINT =
  'hint: QHUB_PROVIDERS is a JSON object {"NAME": {"plugin": "oauth-oidc", "grant": ["https://host:443"], ' +
  '"config": {"issuer": "...", "client-id": "..."}}}';

/**
 * The configured providers, by name, from `env` (QHUB_PROVIDERS and the
 * QHUB_PROVIDER_* overrides). Each is `{name, plugin, allow, config}`. Throws an
 * `OAuthFailure` (`misconfigured`) after logging what is wrong.
 */
export function loadProviders(env) {
  const text = env.QHUB_PROVIDERS;
  if (text === undefined || text === '') return new Map();
  let raw = text;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch (err) {
      throw misconfigured(`not valid JSON: ${String(err.message).toLowerCase()}; ${FORMAT_HINT}`);
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw misconfigured(`expected a JSON object of providers; ${FORMAT_HINT}`);
  }
  const providers = new Map();
  for (const [name, entry] of Object.entries(raw)) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) {
      throw misconfigured(`provider name ${JSON.stringify(name)} is not lowercase letters, digits and dashes`);
    }
    const fail = (message) => misconfigured(`provider ${JSON.stringify(name)}: ${message}`);
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw fail(`expected an object; ${FORMAT_HINT}`);
    }
    const unknown = Object.keys(entry).filter((k) => !['plugin', 'grant', 'config'].includes(k));
    if (unknown.length > 0) throw fail(`unknown field ${JSON.stringify(unknown[0])}; ${FORMAT_HINT}`);
    const plugin = PROVIDER_PLUGINS[entry.plugin];
    if (typeof entry.plugin !== 'string' || plugin === undefined) {
      const known = Object.keys(PROVIDER_PLUGINS).join(', ');
      throw fail(`no provider plugin named ${JSON.stringify(entry.plugin)}; hint: use one of ${known}`);
    }
    const grant = entry.grant ?? [];
    if (!Array.isArray(grant) || !grant.every((g) => typeof g === 'string')) {
      throw fail('grant must be a list of origins, e.g. ["https://api.github.com:443"]');
    }
    const config = new Map();
    const given = entry.config ?? {};
    if (given === null || typeof given !== 'object' || Array.isArray(given)) {
      throw fail('config must be an object of strings');
    }
    for (const [key, value] of Object.entries(given)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        throw fail(`config value ${JSON.stringify(key)} must be a string, a number or a boolean`);
      }
      config.set(key, String(value));
    }
    let allow;
    try {
      allow = allowList(plugin.manifest.hosts ?? [], grant);
    } catch (err) {
      if (!(err instanceof OriginError)) throw err;
      throw fail(
        `grant entry ${err.message}; hint: a grant entry is an exact origin, scheme://host:port, ` +
          'e.g. "https://login.example.com:443"; wildcards belong only in a plugin\'s manifest',
      );
    }
    for (const ignored of allow.ignored) {
      console.warn(
        `provider ${JSON.stringify(name)}: granted origin ${ignored} is not requested in the manifest of plugin ${label(plugin.manifest)}; it stays unreachable`,
      );
    }
    providers.set(name, { name, plugin, allow, config });
  }
  // QHUB_PROVIDER_<NAME>_<KEY>; when two names could claim a variable (`a` and
  // `a-b`), the longer name wins, as natively.
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || typeof value !== 'string') continue;
    const rest = variable.slice(ENV_PREFIX.length);
    let claimant = null;
    for (const name of providers.keys()) {
      const prefix = `${envName(name)}_`;
      if (rest.startsWith(prefix) && rest.length > prefix.length && (claimant === null || name.length > claimant.name.length)) {
        claimant = { name, key: rest.slice(prefix.length).toLowerCase().replaceAll('_', '-') };
      }
    }
    if (claimant === null) {
      console.warn(`${variable} matches no provider in QHUB_PROVIDERS; it is ignored`);
    } else {
      providers.get(claimant.name).config.set(claimant.key, value);
    }
  }
  return providers;
}

/** The message of a `provider-error`, as the native `ProviderCallError` words it. */
function describe(error) {
  switch (error.tag) {
    case 'not-supported':
      return 'this provider does not offer that flow';
    case 'misconfigured':
      return `misconfigured: ${error.val}`;
    case 'http':
      return `http: ${error.val}`;
    default:
      return `protocol violation by the provider: ${error.val}`;
  }
}

/** The `provider-error` cases, each also a case of the core's `failure`. */
const PROVIDER_ERRORS = ['not-supported', 'misconfigured', 'http', 'protocol'];

/**
 * The core's `oauth` import over the configured providers. `instantiate(plugin,
 * imports)` makes a component instance. Plugins are stateless: each call gets a
 * fresh instance.
 */
export function oauthImport(env, instantiate) {
  let providers;
  const configured = () => (providers ??= loadProviders(env));

  const lookup = (name) => {
    const found = configured().get(name);
    if (found) return found;
    throw new OAuthFailure('unknown-provider', [...configured().keys()].sort());
  };

  /** Calls `fn` of a fresh instance of the provider's plugin; failures as `failure`. */
  const call = async (name, fn, ...args) => {
    const p = lookup(name);
    const manifest = p.plugin.manifest;
    const fault = (what, err) => {
      const message = `plugin ${label(manifest)} (provider ${JSON.stringify(p.name)}): ${what}: ${err?.stack ?? err}`;
      console.error(message);
      return new OAuthFailure('fault', message);
    };
    let instance;
    try {
      instance = await instantiate(p.plugin, {
        'qhub:provider/http': httpImport(label(manifest), p.allow),
        'qhub:provider/config': { get: (key) => p.config.get(key) },
      });
    } catch (err) {
      throw fault('cannot start', err);
    }
    try {
      return await instance.oauthProvider[fn](...args);
    } catch (err) {
      const error = err?.payload;
      if (error && PROVIDER_ERRORS.includes(error.tag)) {
        // Names the plugin and the destination, never a secret: it tells the
        // operator what to fix.
        throw new OAuthFailure(error.tag, `plugin ${label(manifest)}: ${describe(error)}`);
      }
      throw fault('failed', err);
    }
  };

  return {
    providers: async () => [...configured().keys()].sort(),
    async describe(name) {
      const m = await call(name, 'describe');
      return {
        displayName: m.displayName,
        supportsDeviceFlow: m.supportsDeviceFlow,
        supportsWebFlow: m.supportsWebFlow,
      };
    },
    startDeviceAuthorization: (name, scopes) => call(name, 'startDeviceAuthorization', scopes),
    pollDeviceToken: (name, deviceCode) => call(name, 'pollDeviceToken', deviceCode),
    authorizationUrl: (name, redirectUri, state, codeChallenge, scopes) =>
      call(name, 'authorizationUrl', redirectUri, state, codeChallenge, scopes),
    exchangeCode: (name, code, redirectUri, codeVerifier) =>
      call(name, 'exchangeCode', code, redirectUri, codeVerifier),
    fetchIdentity: (name, tokens) => call(name, 'fetchIdentity', tokens),
  };
}
