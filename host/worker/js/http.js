// The provider gateway's `fetch` import (wit/gateway.wit): one request, sent
// exactly as given. Which hops are allowed, how redirects are followed, what is
// dropped between origins, the body cap and the deadline are the gateway's rules
// (qhub-provider-policy, the same the native host links); this only performs the
// hop and stops reading where it is told.
// Nothing here logs a body, a header value, or a URL: they carry client secrets,
// codes and tokens.

/** Thrown to make `send` return `err(fetch-error)`: jco reads `payload`. */
class FetchFailure extends Error {
  constructor(tag, val) {
    super(val === undefined ? tag : `${tag}: ${val}`);
    this.payload = val === undefined ? { tag } : { tag, val };
  }
}

/** The statuses of a redirect the gateway follows (RFC 9110 section 15.4). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The body, read until `limit` bytes are in hand (the rest is not read). */
async function readAtMost(response, limit) {
  const chunks = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    await reader.cancel();
  }
  const body = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, body.byteLength - offset);
    body.set(part, offset);
    offset += part.byteLength;
  }
  return body;
}

/** The `qhub:plugin/fetch` import. */
export function fetchImport() {
  return {
    async send(method, url, headers, body, readAtMost_, skipRedirectBody, timeoutMs) {
      const controller = new AbortController();
      let timer;
      const expired = new Promise((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new FetchFailure('timeout'));
        }, timeoutMs);
      });
      const exchange = async () => {
        const response = await fetch(url, {
          method,
          headers,
          body,
          redirect: 'manual',
          signal: controller.signal,
        });
        const redirect = REDIRECTS.has(response.status) && response.headers.has('location');
        const limit = skipRedirectBody && redirect ? 0 : Number(readAtMost_);
        return { status: response.status, headers: [...response.headers], body: await readAtMost(response, limit) };
      };
      try {
        // The race also stops a body read that ignores the abort.
        return await Promise.race([exchange(), expired]);
      } catch (err) {
        if (err instanceof FetchFailure) throw err;
        if (controller.signal.aborted) throw new FetchFailure('timeout');
        // The message of a failed fetch names no URL, so no code or token leaks.
        throw new FetchFailure('transport', String(err?.message ?? err));
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
