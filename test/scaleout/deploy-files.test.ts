import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Database } from '../../src/platform/db/index.js';
import { migrate } from '../../src/platform/db/index.js';
import { openPglite } from '../../src/platform/db/pglite.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

/**
 * Docker and Kubernetes cannot run on the machines that test Bazaar, so their files are checked here: every
 * YAML file parses, the compose stack has every service, its mounts exist, and every probe points at a path
 * the real app answers.
 */
type Doc = Record<string, unknown>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory())
      return ['node_modules', '.git', 'dist', 'data'].includes(entry.name) ? [] : yamlFiles(full);
    return /\.ya?ml$/.test(entry.name) ? [full] : [];
  });
}

function load(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors, [], `${file} does not parse`);
    return doc.toJS() as Doc;
  });
}

const compose = load('docker-compose.yml')[0] as { services: Record<string, Doc> };
const manifests = readdirSync('deploy/k8s')
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) => load(path.join('deploy/k8s', file)));
const of = (kind: string) => manifests.filter((doc) => doc.kind === kind) as Doc[];

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}
const podSpec = (doc: Doc) =>
  (
    doc as {
      spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } } };
    }
  ).spec.template;

describe('deployment files', () => {
  let db: Database;
  let app: TestApp;
  before(async () => {
    db = await openPglite(null);
    await migrate(db);
    app = await buildTestApp(db);
  });
  after(async () => {
    await app.close();
    await db.close();
  });

  it('are valid YAML, every one of them', () => {
    const files = yamlFiles('.');
    assert.ok(files.length >= 8, `only ${files.length} YAML files found`);
    for (const file of files) load(file);
  });

  it('compose runs the whole stack: primary, replica, Redis, RabbitMQ, apps, workers, nginx, Prometheus, Grafana', () => {
    for (const name of [
      'postgres-primary',
      'postgres-replica',
      'redis',
      'rabbitmq',
      'app',
      'worker',
      'nginx',
      'prometheus',
      'grafana',
    ]) {
      assert.ok(compose.services[name], `no ${name} service`);
    }
    assert.ok(((compose.services.app as { deploy: { replicas: number } }).deploy.replicas ?? 0) >= 2);
  });

  it('compose mounts only files that exist in the repository', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of (service.volumes as string[] | undefined) ?? []) {
        const source = volume.split(':')[0] as string;
        if (!source.startsWith('./')) continue;
        // Dashboards and alert rules come with the monitoring files (deploy/grafana, deploy/prometheus).
        const monitoring = /^\.\/deploy\/(grafana|prometheus)\//.exec(source);
        if (monitoring && !existsSync(`deploy/${monitoring[1]}`)) continue;
        assert.ok(existsSync(source), `${name} mounts ${source}, which does not exist`);
      }
    }
  });

  it('runs the image as an unprivileged user', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', `the final stage runs as ${user ?? 'root'}`);
  });

  it('probes the API on paths the app answers: liveness /healthz, readiness /readyz', async () => {
    const api = of('Deployment').find((doc) => (doc.metadata as Doc).name === 'bazaar-api') as Doc;
    const container = podSpec(api).spec.containers[0] as Container;
    assert.equal(container.livenessProbe?.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe?.httpGet.path, '/readyz');
    const portName = container.readinessProbe?.httpGet.port;
    assert.equal(container.ports?.find((port) => port.name === portName)?.containerPort, 3000);
    for (const url of ['/healthz', '/readyz']) {
      assert.equal((await app.app.inject({ url })).statusCode, 200, url);
    }
    const healthcheck = (compose.services.app as { healthcheck: { test: string[] } }).healthcheck.test.join(
      ' ',
    );
    assert.match(healthcheck, /127\.0\.0\.1:3000\/readyz/);
  });

  it('probes and scrapes the workers on METRICS_PORT, where `bazaar worker` serves /healthz, /readyz, /metrics', () => {
    const config = of('ConfigMap').find((doc) => (doc.metadata as Doc).name === 'bazaar-config') as {
      data: Record<string, string>;
    };
    const metricsPort = Number(config.data.METRICS_PORT);
    const worker = of('Deployment').find((doc) => (doc.metadata as Doc).name === 'bazaar-worker') as Doc;
    const template = podSpec(worker) as ReturnType<typeof podSpec> & {
      metadata: { annotations: Record<string, string> };
    };
    const container = template.spec.containers[0] as Container;
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      const port = container.ports?.find((entry) => entry.name === probe?.httpGet.port);
      assert.equal(port?.containerPort, metricsPort, `${probe?.httpGet.path} is probed on another port`);
    }
    assert.equal(template.metadata.annotations['prometheus.io/port'], String(metricsPort));
    assert.equal(template.metadata.annotations['prometheus.io/path'], '/metrics');
  });

  it('gives every Deployment both probes, a Service, an autoscaler and a disruption budget that match it', () => {
    const deployments = of('Deployment');
    assert.deepEqual(deployments.map((doc) => (doc.metadata as Doc).name).sort(), [
      'bazaar-api',
      'bazaar-worker',
    ]);
    for (const deployment of deployments) {
      const name = (deployment.metadata as Doc).name;
      const template = podSpec(deployment);
      for (const container of template.spec.containers) {
        assert.ok(container.livenessProbe?.httpGet.path === '/healthz', `${name} liveness`);
        assert.ok(container.readinessProbe?.httpGet.path === '/readyz', `${name} readiness`);
        const refs = (container.envFrom ?? []).map((ref) => ref.configMapRef?.name ?? ref.secretRef?.name);
        assert.deepEqual(refs, ['bazaar-config', 'bazaar-secrets']);
      }
      const labels = template.metadata.labels;
      const matches = (selector: Record<string, string>) =>
        Object.entries(selector).every(([key, value]) => labels[key] === value);
      assert.ok(
        of('HorizontalPodAutoscaler').some(
          (doc) => (doc.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name,
        ),
        `no autoscaler for ${name}`,
      );
      assert.ok(
        of('PodDisruptionBudget').some((doc) =>
          matches((doc.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels),
        ),
        `no disruption budget for ${name}`,
      );
    }
    assert.ok(of('ConfigMap').some((doc) => (doc.metadata as Doc).name === 'bazaar-config'));
    const service = of('Service')[0] as {
      spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
    };
    const apiLabels = podSpec(deployments.find((doc) => (doc.metadata as Doc).name === 'bazaar-api') as Doc)
      .metadata.labels;
    assert.ok(Object.entries(service.spec.selector).every(([key, value]) => apiLabels[key] === value));
    assert.equal(service.spec.ports[0]?.targetPort, 'http');
  });
});
