import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * deploy/nginx/nginx.conf as scripts/stack renders it, in front of two small HTTP servers standing in for
 * Bazaar instances: one healthy, one that reads each request and then drops the connection without answering
 * (an instance dying mid-request). What is checked is nginx's behaviour under this configuration.
 */
const run = promisify(execFile);

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

function upstream(behaviour: 'healthy' | 'dies') {
  const seen: Seen[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
      if (behaviour === 'dies') {
        request.socket.destroy();
        return;
      }
      response.setHeader('content-type', 'application/json');
      response.setHeader('cache-control', 'public, max-age=60');
      response.end(
        JSON.stringify({ items: Array.from({ length: 50 }, (_, id) => ({ id, name: `product ${id}` })) }),
      );
    });
  });
  return { server, seen };
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request: node's fetch would decompress gzip and hide what nginx sent. */
function request(
  port: number,
  method: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: url, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? '{"n":1}' : undefined);
  });
}

describe('nginx in front of the instances', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-nginx-'));
  const healthy = upstream('healthy');
  const dying = upstream('dies');
  let port: number;
  let conf: string;

  before(async () => {
    const ports = [await listen(healthy.server), await listen(dying.server)];
    const probe = http.createServer();
    port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    const env = { ...process.env, STACK_DIR: dir };
    const rendered = await run(
      'scripts/stack',
      ['nginx-config', String(port), ...ports.map((p) => `127.0.0.1:${p}`)],
      {
        env,
      },
    );
    conf = rendered.stdout.trim();
    await run('nginx', ['-p', path.join(dir, 'nginx'), '-c', conf]);
    for (let i = 0; i < 50; i += 1) {
      if (
        await request(port, 'GET', '/media/none').then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
  });
  after(async () => {
    await run('nginx', ['-p', path.join(dir, 'nginx'), '-c', conf, '-s', 'quit']).catch(() => {});
    healthy.server.close();
    dying.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries a GET on the other instance when one dies mid-request', async () => {
    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push(await request(port, 'GET', `/api/orders/?page=${i}`));
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.ok(
      dying.seen.some((seen) => seen.method === 'GET'),
      'no GET reached the dying instance',
    );
  });

  it('never sends a POST to a second instance once one has received it', async () => {
    await sleep(100);
    const before = { healthy: healthy.seen.length, dying: dying.seen.length };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await request(port, 'POST', '/api/orders/')).status);
    const received = {
      healthy: healthy.seen.slice(before.healthy).filter((seen) => seen.method === 'POST').length,
      dying: dying.seen.slice(before.dying).filter((seen) => seen.method === 'POST').length,
    };
    // Each POST reached exactly one instance: those the dying one swallowed failed and were not re-sent.
    assert.equal(received.healthy + received.dying, 10);
    assert.equal(statuses.filter((status) => status === 502).length, received.dying);
  });

  it('passes the client request id through, and makes one up when there is none', async () => {
    const given = await request(port, 'GET', '/api/cart/', { 'x-request-id': 'trace-42' });
    assert.equal(given.headers['x-request-id'], 'trace-42');
    assert.equal(healthy.seen.at(-1)?.headers['x-request-id'], 'trace-42');
    const made = await request(port, 'GET', '/api/cart/');
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f]{32}$/);
    assert.equal(healthy.seen.at(-1)?.headers['x-request-id'], made.headers['x-request-id']);
  });

  it('compresses JSON for clients that accept gzip, and asks instances for plain bodies', async () => {
    const answer = await request(port, 'GET', '/api/wishlist/', { 'accept-encoding': 'gzip' });
    assert.equal(answer.headers['content-encoding'], 'gzip');
    assert.equal(healthy.seen.at(-1)?.headers['accept-encoding'], undefined);
  });

  it('serves media files from disk without asking an instance', async () => {
    writeFileSync(path.join(dir, 'data/media/photo.txt'), 'pixels');
    const count = healthy.seen.length + dying.seen.length;
    const answer = await request(port, 'GET', '/media/photo.txt');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), 'pixels');
    assert.equal(healthy.seen.length + dying.seen.length, count);
  });

  it('caches anonymous catalog GETs for a second (whatever the instance allows), never signed-in ones', async () => {
    const url = `/api/products/?sort=price&n=${Date.now()}`;
    const first = await request(port, 'GET', url);
    const second = await request(port, 'GET', url);
    assert.deepEqual([first.headers['x-cache'], second.headers['x-cache']], ['MISS', 'HIT']);
    const signedIn = await request(port, 'GET', url, { authorization: 'Bearer token' });
    assert.equal(signedIn.headers['x-cache'], 'BYPASS');
    await sleep(2_100);
    assert.equal((await request(port, 'GET', url)).headers['x-cache'], 'EXPIRED');
  });
});
