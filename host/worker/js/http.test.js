// The Worker's allow-list must admit exactly what the native host's does
// (host/runtime/src/grants.rs): manifest patterns ∩ exact grants, per origin.
// Run by `node --test`, from the qhub-worker-build crate's tests.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { allowList, httpImport, OriginError, parseOrigin } from './http.js';

const CASES = [
  // [manifest, grant, url, expected refusal (null: allowed)]
  [['https://github.com:443'], ['https://github.com'], 'https://github.com/login', null],
  [['https://github.com:443'], ['https://github.com:443'], 'https://github.com:443/x', null],
  [['https://github.com:443'], [], 'https://github.com/', 'not granted'],
  [['https://github.com:443'], ['https://github.com'], 'http://github.com/', 'not requested in its manifest'],
  [['https://github.com:443'], ['https://github.com'], 'https://github.com:8443/', 'not requested in its manifest'],
  [['https://github.com:443'], ['https://GitHub.COM'], 'https://github.com/', null],
  [['https://*:443'], ['https://idp.example.com'], 'https://idp.example.com/.well-known', null],
  [['https://*:443'], ['https://idp.example.com'], 'https://evil.example.com/', 'not granted'],
  [['http://127.0.0.1:*'], ['http://127.0.0.1:8080'], 'http://127.0.0.1:8080/token', null],
  [['http://127.0.0.1:*'], ['http://127.0.0.1:8080'], 'http://127.0.0.1:9090/', 'not granted'],
  [['http://[::1]:*'], ['http://[::1]:8080'], 'http://[::1]:8080/', null],
  [['https://api.github.com:443'], ['https://github.com'], 'https://github.com/', 'not requested in its manifest'],
];

test('the allow-list is manifest ∩ grant, origin by origin', () => {
  for (const [manifest, grant, url, expected] of CASES) {
    const parsed = new URL(url);
    const dest = {
      scheme: parsed.protocol.replace(':', ''),
      host: parsed.hostname,
      port: parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port),
    };
    assert.equal(allowList(manifest, grant).refusal(dest), expected, `${manifest} / ${grant} / ${url}`);
  }
});

test('grants name exact origins; malformed entries are refused', () => {
  for (const bad of ['https://*', 'http://127.0.0.1:*', 'https://*.example.com', 'https://u:p@host', 'ftp://host', 'host:443', 'https://host/path', 'https://host:99999']) {
    assert.throws(() => parseOrigin(bad, false), OriginError, bad);
  }
  assert.throws(() => parseOrigin('https://*.example.com', true), OriginError);
  assert.deepEqual(parseOrigin('https://*:443', true), { scheme: 'https', host: null, port: 443 });
});

test('a request the allow-list refuses is denied, naming the plugin and the origin', async () => {
  const send = httpImport('"oauth-oidc" 0.1.0', allowList(['https://*:443'], ['https://idp.example.com'])).send;
  const request = (url) => ({ method: 'get', url, headers: [], body: undefined });
  await assert.rejects(send(request('https://evil.example.com/x?code=secret')), (err) => {
    assert.equal(err.payload.tag, 'denied');
    assert.match(err.payload.val, /"oauth-oidc" 0\.1\.0 may not reach https:\/\/evil\.example\.com:443: not granted/);
    assert.doesNotMatch(err.payload.val, /secret/);
    return true;
  });
  await assert.rejects(send(request('https://user:pw@idp.example.com/')), (err) => err.payload.tag === 'invalid-url');
  await assert.rejects(send(request('file:///etc/passwd')), (err) => err.payload.tag === 'invalid-url');
});
