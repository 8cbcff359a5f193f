// OAuth sign-in in the Worker, as `OAuthFlows` does it natively
// (host/runtime/src/oauth.rs): a provider plugin speaks the provider's protocol
// through the `http` import, then the account core decides what the identity means.
//
// The operator configures providers in the variable QHUB_PROVIDERS, the JSON form
// of the native providers.toml, with the same `QHUB_PROVIDER_<NAME>_<KEY>`
// overrides (client secrets belong there, as Worker secrets):
//   {"NAME": {"plugin": "oauth-oidc", "grant": ["https://login.example.com"],
//             "config": {"issuer": "https://login.example.com", "client-id": "..."}}}
// Plugins are stateless, so each request gets fresh provider instances.

import { PROVIDER_PLUGINS } from './plugins.js';
import { allowList, httpImport, OriginError } from './http.js';
import { ApiError } from './wire.js';

/** The prefix of the variables that set provider config values. */
const ENV_PREFIX = 'QHUB_PROVIDER_';

/** `"oauth-oidc" 0.1.0`, as the native host labels a plugin. */
const label = (manifest) => `${JSON.stringify(manifest.name)} ${manifest.version}`;

/** A provider name as it appears in a variable: uppercase, `-` as `_`. */
const envName = (name) => name.toUpperCase().replaceAll('-', '_');

const misconfigured = (message) => {
  // Logged for the operator; the client only learns that the server is misconfigured.
  console.error(`QHUB_PROVIDERS: ${message}`);
  return new ApiError('internal', 'the server is misconfigured');
};

const FORMAT_HINT =
  'hint: QHUB_PROVIDERS is a JSON object {"NAME": {"plugin": "oauth-oidc", "grant": ["https://host:443"], ' +
  '"config": {"issuer": "...", "client-id": "..."}}}';

/**
 * The configured providers, by name, from `env` (QHUB_PROVIDERS and the
 * QHUB_PROVIDER_* overrides). Each is `{name, plugin, allow, config}`. Throws the
 * 500 `internal` ApiError after logging what is wrong.
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

const PROVIDER_ERROR_CODES = {
  'not-supported': 'invalid-input',
  http: 'unavailable',
  misconfigured: 'internal',
  protocol: 'internal',
};

/**
 * The OAuth flows over the configured providers. `instantiate(plugin, imports)`
 * makes a component instance; `accounts` is the account core (its identities
 * functions included).
 */
export function oauthFlows(env, instantiate) {
  let providers;
  const configured = () => (providers ??= loadProviders(env));

  const provider = (name) => {
    const found = configured().get(name);
    if (found) return found;
    const known = [...configured().keys()].sort();
    throw new ApiError(
      'not-found',
      known.length === 0
        ? `unknown provider ${JSON.stringify(name)}: this server has no OAuth provider configured`
        : `unknown provider ${JSON.stringify(name)}: use one of ${known.join(', ')}`,
    );
  };

  /** A fresh instance of the provider's plugin; every call's failure translated. */
  const connect = async (p) => {
    const manifest = p.plugin.manifest;
    let instance;
    try {
      instance = await instantiate(p.plugin, {
        'qhub:plugin/http': httpImport(label(manifest), p.allow),
        'qhub:plugin/config': { get: (key) => p.config.get(key) },
      });
    } catch (err) {
      console.error(`plugin ${label(manifest)} (provider ${JSON.stringify(p.name)}): cannot start: ${err?.stack ?? err}`);
      throw new ApiError('internal', 'internal error');
    }
    const exports = instance.oauthProvider;
    const call = (fn) => async (...args) => {
      try {
        return await exports[fn](...args);
      } catch (err) {
        const error = err?.payload;
        if (error && typeof error.tag === 'string' && error.tag in PROVIDER_ERROR_CODES) {
          // Names the plugin and the destination, never a secret: it tells the
          // operator what to fix.
          const message = `plugin ${label(manifest)}: ${describe(error)}`;
          console.warn(message);
          throw new ApiError(PROVIDER_ERROR_CODES[error.tag], message);
        }
        console.error(`plugin ${label(manifest)} (provider ${JSON.stringify(p.name)}): failed: ${err?.stack ?? err}`);
        throw new ApiError('internal', 'internal error');
      }
    };
    // A plain object, not a Proxy: this is awaited, and a Proxy would answer `then`.
    return Object.fromEntries(
      ['describe', 'startDeviceAuthorization', 'pollDeviceToken', 'authorizationUrl', 'exchangeCode', 'fetchIdentity'].map(
        (fn) => [fn, call(fn)],
      ),
    );
  };

  const signIn = async (accounts, name, plugin, tokens, client) => {
    const identity = await plugin.fetchIdentity(tokens);
    const vouched = {
      subject: identity.subject,
      email: identity.email,
      emailVerified: identity.emailVerified,
      displayName: identity.displayName,
    };
    return accounts.signInWithIdentity(name, vouched, client);
  };

  return {
    /** `[{name, metadata}]`, sorted by name. */
    async list() {
      const names = [...configured().keys()].sort();
      const out = [];
      for (const name of names) {
        const plugin = await connect(provider(name));
        out.push({ name, metadata: await plugin.describe() });
      }
      return out;
    },
    async startDevice(name, scopes) {
      const plugin = await connect(provider(name));
      return plugin.startDeviceAuthorization(scopes);
    },
    /** `{signedIn}` once approved, else `{slowDown}` (undefined: plain pending). */
    async pollDevice(accounts, name, deviceCode, client) {
      const plugin = await connect(provider(name));
      const outcome = await plugin.pollDeviceToken(deviceCode);
      switch (outcome.tag) {
        case 'pending':
          return { slowDown: undefined };
        case 'slow-down':
          return { slowDown: outcome.val };
        case 'denied':
          throw new ApiError('forbidden', 'the authorization was denied at the provider');
        case 'expired':
          throw new ApiError('invalid-input', 'the device code expired before it was approved');
        case 'granted':
          return { signedIn: await signIn(accounts, name, plugin, outcome.val, client) };
        default:
          console.error(`plugin ${label(provider(name).plugin.manifest)}: unknown poll outcome ${outcome.tag}`);
          throw new ApiError('internal', 'internal error');
      }
    },
    async authorizationUrl(name, redirectUri, state, codeChallenge, scopes) {
      const plugin = await connect(provider(name));
      return plugin.authorizationUrl(redirectUri, state, codeChallenge, scopes);
    },
    async exchangeCode(accounts, name, code, redirectUri, codeVerifier, client) {
      const plugin = await connect(provider(name));
      const tokens = await plugin.exchangeCode(code, redirectUri, codeVerifier);
      return signIn(accounts, name, plugin, tokens, client);
    },
  };
}
