// The account core's `oauth` import in the Worker (wit/oauth.wit), as
// host/runtime/src/oauth.rs implements it natively: each call goes to the named
// provider's plugin, instantiated with its configuration and with the `http` of
// a provider gateway (plugins/provider-gateway), which applies the native host's
// outbound rules over one plain `fetch` per hop (http.js). Reading and checking
// the operator's configuration, and wording a provider's failure, are the
// gateway's too: this only instantiates, forwards and logs.
//
// The operator configures providers in the variable QHUB_PROVIDERS, the JSON form
// of the native providers.toml, with the same `QHUB_PROVIDER_<NAME>_<KEY>`
// overrides (client secrets belong there, as Worker secrets):
//   {"NAME": {"plugin": "oauth-oidc", "grant": ["https://login.example.com"],
//             "config": {"issuer": "https://login.example.com", "client-id": "..."}}}
// Plugins are stateless, so each call gets fresh instances.

import { PROVIDER_GATEWAY, PROVIDER_PLUGINS } from './plugins.js';
import { fetchImport } from './http.js';

/** Thrown to make an `oauth` import return `err(failure)`: jco reads `payload`. */
class OAuthFailure extends Error {
  constructor(tag, val) {
    super(`${tag}: ${val}`);
    this.payload = { tag, val };
  }
}

/** The provider plugins this Worker carries, as the gateway takes them. */
const PLUGIN_LIST = Object.values(PROVIDER_PLUGINS).map(({ manifest }) => ({
  name: manifest.name,
  label: manifest.label,
  hosts: manifest.hosts ?? [],
}));

/**
 * A new gateway instance (`gateway` and `http`); one serves one provider
 * call, since `allow` sets the origins of its `http` once.
 */
const gateway = (instantiate) => instantiate(PROVIDER_GATEWAY, { 'qhub:plugin/fetch': fetchImport() });

/** The `provider-error` cases, each also a case of the core's `failure`. */
const PROVIDER_ERRORS = ['not-supported', 'misconfigured', 'http', 'protocol'];

/**
 * The configured providers, by name, read by the gateway from `env`
 * (QHUB_PROVIDERS and the QHUB_PROVIDER_* variables). Throws `misconfigured`
 * after logging what is wrong.
 */
async function loadProviders(env, instantiate) {
  const given = env.QHUB_PROVIDERS ?? '';
  const text = typeof given === 'string' ? given : JSON.stringify(given);
  // Only the variables that can set provider values: the Worker's other secrets
  // (JWT_SECRET) stay out of the gateway.
  const vars = Object.entries(env).filter(
    ([name, value]) => name.startsWith('QHUB_PROVIDER_') && typeof value === 'string',
  );
  let configuration;
  try {
    configuration = await (await gateway(instantiate)).gateway.configure(text, vars, PLUGIN_LIST);
  } catch (err) {
    if (typeof err?.payload !== 'string') throw err;
    // Logged for the operator; the client only learns that the server is misconfigured.
    console.error(err.payload);
    throw new OAuthFailure('misconfigured', 'the server is misconfigured');
  }
  for (const warning of configuration.warnings) console.warn(warning);
  return new Map(configuration.providers.map((p) => [p.name, p]));
}

/**
 * The core's `oauth` import over the configured providers. `instantiate(plugin,
 * imports)` makes a component instance.
 */
export function oauthImport(env, instantiate) {
  let providers;
  const configured = () => (providers ??= loadProviders(env, instantiate));

  /** Calls `fn` of a fresh instance of the provider's plugin; failures as `failure`. */
  const call = async (name, fn, ...args) => {
    const known = await configured();
    const p = known.get(name);
    if (p === undefined) throw new OAuthFailure('unknown-provider', [...known.keys()].sort());
    const plugin = PROVIDER_PLUGINS[p.plugin];
    const { label } = plugin.manifest;
    const fault = (what, err) => {
      const message = `plugin ${label} (provider ${JSON.stringify(p.name)}): ${what}: ${err?.stack ?? err}`;
      console.error(message);
      return new OAuthFailure('fault', message);
    };
    let access;
    let instance;
    try {
      access = await gateway(instantiate);
      await access.gateway.allow(PLUGIN_LIST.find((l) => l.name === p.plugin), p.grant);
      const config = new Map(p.config);
      instance = await instantiate(plugin, {
        'qhub:provider/http': access.http,
        'qhub:provider/config': { get: (key) => config.get(key) },
      });
    } catch (err) {
      throw fault('cannot start', err);
    }
    try {
      return await instance.oauthProvider[fn](...args);
    } catch (err) {
      const error = err?.payload;
      if (error && PROVIDER_ERRORS.includes(error.tag)) {
        throw new OAuthFailure(error.tag, await access.gateway.describeFailure(label, error.tag, error.val ?? ''));
      }
      throw fault('failed', err);
    }
  };

  return {
    providers: async () => [...(await configured()).keys()].sort(),
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
