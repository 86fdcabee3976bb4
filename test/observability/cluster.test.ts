import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { exitOf, startCli, waitForOutput } from '../helpers/cli.js';
import { createPostgresDatabase, requireService } from '../helpers/engines.js';
import { freePort } from '../helpers/ports.js';

const adminUrl = requireService('TEST_DATABASE_URL');

/** A GET on a connection of its own, so the cluster's round robin spreads the requests over the workers. */
function getOnNewConnection(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

function sampleOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((item) => item.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics of a cluster', { skip: !adminUrl && 'TEST_DATABASE_URL is not set' }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let child: ReturnType<typeof startCli>;
  let port: number;

  before(async () => {
    database = await createPostgresDatabase(adminUrl as string);
    port = await freePort();
    child = startCli(['serve', '--instances', '2'], {
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    await waitForOutput(child, /Bazaar is serving[\s\S]*Bazaar is serving/);
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exitOf(child);
    }
    await database?.drop();
  });

  it('adds up the requests of two workers, whichever worker answers the scrape', async () => {
    const requests = 24;
    for (let i = 0; i < requests; i += 1) {
      assert.equal((await getOnNewConnection(port, '/healthz')).status, 200);
    }
    const series = 'bazaar_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}';
    // Several scrapes, each on a new connection, so both workers take turns answering /metrics.
    for (let scrape = 0; scrape < 4; scrape += 1) {
      const { status, body } = await getOnNewConnection(port, '/metrics');
      assert.equal(status, 200, body);
      assert.equal(sampleOf(body, 'bazaar_processes'), 2, 'both workers report');
      assert.equal(sampleOf(body, series), requests);
    }
  });
});
