import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import pino from 'pino';
import { collectWhenIdle } from '../../src/platform/observability/idle-gc.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('collects the heap once after a burst of requests goes quiet, never while busy or before a burst', async () => {
  const lines: { msg: string; ms: number }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const server = createServer((_request, response) => response.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const stop = collectWhenIdle(server, pino({ level: 'debug' }, sink), { idleMs: 300, minRequests: 20 });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const collections = () => lines.filter((line) => line.msg === 'idle: heap collected').length;
    for (let i = 0; i < 10; i += 1) await (await fetch(url)).text();
    await sleep(700);
    assert.equal(collections(), 0, 'ten requests are not a burst');
    // Busy for 1.2 s: a request every 20 ms keeps every 300-ms interval non-idle, even on a loaded machine.
    const busyUntil = Date.now() + 1_200;
    while (Date.now() < busyUntil) {
      await (await fetch(url)).text();
      await sleep(20);
    }
    assert.equal(collections(), 0, 'never while requests keep coming');
    await sleep(900);
    assert.equal(collections(), 1, 'once, after the burst went quiet');
    await sleep(700);
    assert.equal(collections(), 1, 'and not again until the next burst');
  } finally {
    stop();
    server.close();
  }
});
