// The host's `qhub:provider/http` import for provider plugins, over `fetch`, with the
// rules of the native host (host/runtime/src/http.rs and grants.rs):
// - a request, and every redirect hop, goes out only to an origin (scheme, host,
//   port; 80/443 by default) that is in the plugin's manifest and in the operator's
//   grant; anything else is `denied`, naming the plugin and the origin;
// - redirects are followed here (`redirect: 'manual'`), at most MAX_REDIRECTS, and
//   `authorization`, `cookie` and `proxy-authorization` are dropped when a hop
//   changes origin;
// - the body is streamed and abandoned past MAX_BODY_BYTES (`too-large`), and the
//   whole exchange must finish within TIMEOUT_MS (`timeout`).
// Nothing here logs a body, a header value, or a URL's path or query: they carry
// client secrets, codes and tokens.

/** The native host's defaults (`MAX_REDIRECTS`, `Limits::http_*`). */
export const MAX_REDIRECTS = 5;
export const MAX_BODY_BYTES = 1024 * 1024;
export const TIMEOUT_MS = 10_000;

/** Thrown to make `send` return `err(http-error)`: jco reads `payload`. */
class HttpFailure extends Error {
  constructor(tag, val) {
    super(val === undefined ? tag : `${tag}: ${val}`);
    this.payload = val === undefined ? { tag } : { tag, val };
  }
}

const DEFAULT_PORTS = { http: 80, https: 443 };

/** An origin pattern or grant entry that does not parse: `"text": reason`. */
export class OriginError extends Error {
  constructor(text, reason) {
    super(`${JSON.stringify(text)}: ${reason}`);
    this.text = text;
  }
}

/** A host as URL parsing normalises it (lowercase, IDNA, IPv6 in brackets). */
function normaliseHost(scheme, host) {
  try {
    return new URL(`${scheme}://${host}/`).hostname;
  } catch {
    return null;
  }
}

/**
 * `scheme://host[:port][/]` as `{scheme, host, port}`; `host` or `port` is `null`
 * for `*` when `wildcards` (manifest entries), refused otherwise (grants).
 */
export function parseOrigin(text, wildcards) {
  const fail = (reason) => new OriginError(text, reason);
  const at = text.indexOf('://');
  if (at < 0) throw fail('expected scheme://host:port');
  const scheme = text.slice(0, at).toLowerCase();
  if (!(scheme in DEFAULT_PORTS)) throw fail('only http and https are allowed');
  let authority = text.slice(at + 3);
  if (authority.endsWith('/')) authority = authority.slice(0, -1);
  if (/[/?#]/.test(authority)) throw fail('an origin has no path, query or fragment');
  if (authority.includes('@')) throw fail('an origin has no user name or password');
  let host;
  let port;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) throw fail('unclosed IPv6 literal');
    host = authority.slice(0, end + 1);
    const after = authority.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw fail('expected :port after the IPv6 literal');
      port = after.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon < 0 ? authority : authority.slice(0, colon);
    port = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  const wildcard = (what) => fail(`a grant names exact origins; \`*\` in the ${what} is only for manifests`);
  if (host === '') throw fail('the origin has no host');
  if (host === '*') {
    if (!wildcards) throw wildcard('host');
    host = null;
  } else if (host.includes('*')) {
    throw fail('`*` must stand for the whole host, not part of it (no *.example.com)');
  } else {
    const normal = normaliseHost(scheme, host);
    if (normal === null || normal === '') throw fail('invalid host');
    host = normal;
  }
  if (port === undefined) {
    port = DEFAULT_PORTS[scheme];
  } else if (port === '*') {
    if (!wildcards) throw wildcard('port');
    port = null;
  } else {
    const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(n >= 1 && n <= 65535)) throw fail('the port must be a number from 1 to 65535');
    port = n;
  }
  return { scheme, host, port };
}

const originText = (o) => `${o.scheme}://${o.host}:${o.port}`;
const matches = (pattern, dest) =>
  pattern.scheme === dest.scheme &&
  (pattern.host === null || pattern.host === dest.host) &&
  (pattern.port === null || pattern.port === dest.port);

/**
 * A plugin's allow-list: its manifest's patterns ∩ the operator's exact grants.
 * Throws OriginError for a malformed entry. `ignored` lists granted origins the
 * manifest does not request (they stay unreachable).
 */
export function allowList(manifest, grant) {
  const requested = manifest.map((m) => parseOrigin(m, true));
  const allowed = new Set();
  const ignored = [];
  for (const entry of grant) {
    const dest = parseOrigin(entry, false);
    if (requested.some((p) => matches(p, dest))) allowed.add(originText(dest));
    else ignored.push(originText(dest));
  }
  return {
    ignored,
    /** `null` when allowed, else why not. */
    refusal(dest) {
      if (allowed.has(originText(dest))) return null;
      return requested.some((p) => matches(p, dest)) ? 'not granted' : 'not requested in its manifest';
    },
  };
}

/** The origin a request URL goes to, or `invalid-url`. */
function destination(url) {
  const scheme = url.protocol.replace(/:$/, '');
  if (!(scheme in DEFAULT_PORTS)) {
    throw new HttpFailure('invalid-url', 'only http and https are allowed');
  }
  if (url.username !== '' || url.password !== '') {
    throw new HttpFailure('invalid-url', 'credentials in the URL are not allowed; send them in a header');
  }
  if (url.hostname === '') throw new HttpFailure('invalid-url', 'the URL has no host');
  const port = url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port);
  return { scheme, host: url.hostname, port };
}

/** The redirect statuses that carry a `location` to follow (not 300 or 304). */
const FOLLOWED = new Set([301, 302, 303, 307, 308]);
const CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * The `qhub:provider/http` import for the plugin called `label` (`"oauth-oidc"
 * 0.1.0`), allowed what `allow` (from [`allowList`]) admits.
 */
export function httpImport(label, allow) {
  const admit = (url, from) => {
    const dest = destination(url);
    const refusal = allow.refusal(dest);
    if (refusal !== null) {
      const via = from ? ` (redirected from ${originText(from)})` : '';
      throw new HttpFailure('denied', `plugin ${label} may not reach ${originText(dest)}: ${refusal}${via}`);
    }
    return dest;
  };

  const requestHeaders = (given) => {
    const headers = new Headers();
    for (const [name, value] of given) {
      if (name.toLowerCase() === 'host') {
        throw new HttpFailure('denied', `plugin ${label} may not set the host header; the URL decides the host`);
      }
      try {
        headers.append(name, value);
      } catch {
        // The value is never echoed: it may well be a secret.
        throw new HttpFailure('transport', `invalid request header ${JSON.stringify(name)}`);
      }
    }
    return headers;
  };

  /** The final response's body, read until the cap is passed. */
  const collect = async (response) => {
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > MAX_BODY_BYTES) {
      await response.body?.cancel();
      throw new HttpFailure('too-large', BigInt(MAX_BODY_BYTES));
    }
    const chunks = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > MAX_BODY_BYTES) {
          await reader.cancel();
          throw new HttpFailure('too-large', BigInt(MAX_BODY_BYTES));
        }
        chunks.push(value);
      }
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { status: response.status, headers: [...response.headers], body };
  };

  const exchange = async (request, signal) => {
    let url;
    try {
      url = new URL(request.url);
    } catch (err) {
      throw new HttpFailure('invalid-url', String(err?.message ?? err).toLowerCase());
    }
    let method = request.method.toUpperCase();
    const headers = requestHeaders(request.headers);
    let body = request.body;
    let from = null;
    for (let hops = 0; ; hops += 1) {
      const dest = admit(url, from);
      let response;
      try {
        response = await fetch(url.href, { method, headers, body, redirect: 'manual', signal });
      } catch (err) {
        if (signal.aborted) throw new HttpFailure('timeout');
        // The message of a failed fetch names no URL, so no code or token leaks.
        throw new HttpFailure('transport', String(err?.message ?? err));
      }
      const location = response.headers.get('location');
      if (!(FOLLOWED.has(response.status) && hops < MAX_REDIRECTS && location !== null)) {
        return await collect(response);
      }
      await response.body?.cancel();
      let next;
      try {
        next = new URL(location, url);
      } catch {
        throw new HttpFailure(
          'transport',
          `${originText(dest)} answered ${response.status} with an invalid location header`,
        );
      }
      // RFC 9110 section 15.4: 303 turns into a GET; so do 301 and 302 after a
      // POST, as every browser does. 307 and 308 repeat the request as it was.
      const status = response.status;
      if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers.delete('content-type');
        headers.delete('content-length');
      }
      // Credentials meant for one origin must not travel to another, even an
      // allowed one.
      let nextDest = null;
      try {
        nextDest = destination(next);
      } catch {
        // Refused by `admit` on the next hop.
      }
      if (nextDest === null || originText(nextDest) !== originText(dest)) {
        for (const name of CREDENTIALS) headers.delete(name);
      }
      from = dest;
      url = next;
    }
  };

  return {
    async send(request) {
      const controller = new AbortController();
      let timer;
      const expired = new Promise((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new HttpFailure('timeout'));
        }, TIMEOUT_MS);
      });
      try {
        // The race also stops a body read that ignores the abort.
        return await Promise.race([exchange(request, controller.signal), expired]);
      } catch (err) {
        if (err instanceof HttpFailure) throw err;
        if (controller.signal.aborted) throw new HttpFailure('timeout');
        throw new HttpFailure('transport', String(err?.message ?? err));
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
