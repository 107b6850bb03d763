'use strict';
// Shared helpers of the test suite (not a test file: node.mk runs test/*.test.{js,mjs}).
const { MockServer, DEMO } = require('partly/testing');

/** A fresh mock (port 0) for this test, stopped when the test ends. */
async function startMock(t, options) {
  const mock = await MockServer.start(options);
  t.after(() => mock.stop());
  return mock;
}

/** The requests the mock logged for one method. */
function requestsFor(mock, method) {
  return mock.requests().filter((r) => r.method === method);
}

/** Waits until `predicate()` is truthy, polling, failing after `timeoutMs`. */
async function waitFor(predicate, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the rejection of `promise` (fails if it resolves). */
async function rejection(promise) {
  try {
    const value = await promise;
    throw Object.assign(new Error(`expected a rejection, got ${JSON.stringify(value)}`), { unexpected: true });
  } catch (error) {
    if (error && error.unexpected) throw error;
    return error;
  }
}

/**
 * A small HTTP CONNECT proxy on 127.0.0.1:0 for tests. It records the head of every request it
 * receives and every byte it tunnels from the client, answers anything but CONNECT with 502 (and
 * 407 without the expected Proxy-Authorization when `auth` is given), and connects every tunnel
 * to 127.0.0.1 on the port asked for (so `mock.partly.test`, not loopback, reaches the mock).
 */
async function startConnectProxy(t, auth) {
  const net = require('node:net');
  const heads = [];
  const tunnelled = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const text = head.subarray(0, end + 4).toString('latin1');
      const rest = head.subarray(end + 4);
      heads.push(text);
      const [verb, target] = text.split('\r\n')[0].split(' ');
      if (verb !== 'CONNECT') {
        client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      if (auth !== undefined) {
        const ok = text
          .split('\r\n')
          .slice(1)
          .some((line) => {
            const i = line.indexOf(':');
            return (
              i > 0 &&
              line.slice(0, i).trim().toLowerCase() === 'proxy-authorization' &&
              line.slice(i + 1).trim() === auth
            );
          });
        if (!ok) {
          client.end('HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n');
          return;
        }
      }
      const port = Number(target.slice(target.lastIndexOf(':') + 1));
      const upstream = net.connect(port, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('connect', () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length > 0) {
          tunnelled.push(rest);
          upstream.write(rest);
        }
        client.on('data', (data) => tunnelled.push(Buffer.from(data)));
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    client.on('data', onData);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const proxy = {
    port,
    url: `http://127.0.0.1:${port}`,
    heads: () => [...heads],
    /** Whether `needle` crossed the proxy in clear text (in a head or a tunnel). */
    saw: (needle) => heads.join('').includes(needle) || Buffer.concat(tunnelled).includes(needle),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  t.after(() => proxy.close());
  return proxy;
}

module.exports = { startMock, requestsFor, waitFor, rejection, startConnectProxy, DEMO, MockServer };
