// The gateway's `fetch` import performs one hop as given: no redirect followed,
// the body read only up to the limit, the deadline kept, failures as `fetch-error`.
// The rules themselves (allow-list, redirects, caps) are qhub-provider-policy's,
// tested in Rust. Run by `node --test`, from the qhub-worker-build crate's tests.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { fetchImport } from './http.js';

/** A server on a free loopback port; `handler(request, response)`. */
async function serve(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => server.closeAllConnections() || server.close() };
}

test('a redirect is answered, not followed, its body read only when asked', async () => {
  const server = await serve((req, res) => {
    res.writeHead(302, { location: '/elsewhere' }).end('moved');
  });
  try {
    const answer = await fetchImport().send('GET', `${server.url}/start`, [], undefined, 100n, true, 5000);
    assert.equal(answer.status, 302);
    assert.deepEqual(
      answer.headers.filter(([name]) => name === 'location'),
      [['location', '/elsewhere']],
    );
    assert.equal(answer.body.byteLength, 0);
    const last = await fetchImport().send('GET', `${server.url}/start`, [], undefined, 100n, false, 5000);
    assert.equal(new TextDecoder().decode(last.body), 'moved');
  } finally {
    server.close();
  }
});

test('method, headers and body go out as given', async () => {
  const server = await serve((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => res.end(`${req.method} ${req.headers['x-probe']} ${body}`));
  });
  try {
    const answer = await fetchImport().send(
      'POST',
      server.url,
      [['x-probe', 'yes']],
      new TextEncoder().encode('payload'),
      100n,
      true,
      5000,
    );
    assert.equal(answer.status, 200);
    assert.equal(new TextDecoder().decode(answer.body), 'POST yes payload');
  } finally {
    server.close();
  }
});

test('the body is read only up to the limit', async () => {
  const server = await serve((req, res) => {
    res.write('x'.repeat(64 * 1024));
    // Never ends: reading past the limit would hang the test.
  });
  try {
    const answer = await fetchImport().send('GET', server.url, [], undefined, 1001n, true, 5000);
    assert.equal(answer.body.byteLength, 1001);
  } finally {
    server.close();
  }
});

test('a peer that does not answer in time is a timeout', async () => {
  const server = await serve(() => {});
  try {
    await assert.rejects(fetchImport().send('GET', server.url, [], undefined, 100n, true, 200), (err) => {
      assert.deepEqual(err.payload, { tag: 'timeout' });
      return true;
    });
  } finally {
    server.close();
  }
});

test('a connection that fails is a transport error naming no URL', async () => {
  await assert.rejects(
    fetchImport().send('GET', 'http://127.0.0.1:1/path?code=s3cret', [], undefined, 100n, true, 5000),
    (err) => {
      assert.equal(err.payload.tag, 'transport');
      assert.ok(!err.payload.val.includes('s3cret'), err.payload.val);
      return true;
    },
  );
});
