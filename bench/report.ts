import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatStatuses, isDesigned, MIX_ACTIONS, type MixTally } from './mix.js';
import { ROOT } from './processes.js';
import type { SoakReport } from './soak.js';

const pad = (value: string | number, width: number) => String(value).padStart(width);

export interface ScenarioResult {
  name: string;
  title: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Answers that are not a designed outcome of the request sent (target 0); in the mix, 409s at checkout are. */
  undesigned: number;
  /** Every status seen, with its count. */
  statuses: Record<string, number>;
  peakRssMb: number;
  note?: string;
  /** The mix's answers by action (browse, cart, clear, checkout) and status. */
  mix?: MixTally;
  /** Outbox jobs not finished at the end of the scenario, by status. */
  outbox?: Record<string, number>;
  soak?: SoakReport;
}

function details(r: ScenarioResult): string[] {
  const lines: string[] = [];
  if (r.mix) {
    const answers = MIX_ACTIONS.map(
      (action) => `${action} ${formatStatuses(r.mix![action], (status) => isDesigned(action, status))}`,
    );
    lines.push(`  answers: ${answers.join('; ')}`);
  } else if (r.non2xx > 0) lines.push(`  statuses: ${formatStatuses(r.statuses)}`);
  if (r.outbox) {
    const entries = Object.entries(r.outbox);
    const backlog = entries.length === 0 ? 'none' : entries.map(([status, n]) => `${status} ${n}`).join(', ');
    lines.push(`  outbox jobs not done at the end: ${backlog}`);
  }
  if (r.soak) lines.push(...soakLines(r.soak));
  return lines.length === 0 ? [] : [`${r.title}:`, ...lines];
}

function soakLines(soak: SoakReport): string[] {
  const lines = [
    `  RSS (medians of ${soak.windowSeconds}-s windows) after ${soak.warmupSeconds} s of warm-up ${soak.baseRssMb} MB, ` +
      `at the end ${soak.endRssMb} MB, max ${soak.maxRssMb} MB: growth ${soak.growthPct}% ` +
      `(${soak.pass ? 'pass' : 'FAIL'}, limit 10%); trend ${soak.rssSlopeMbPerMin} MB/min`,
    `  heap used ${soak.baseHeapUsedMb ?? '-'} -> ${soak.endHeapUsedMb ?? '-'} MB; ` +
      `/metrics series ${soak.baseMetricSeries ?? '-'} -> ${soak.endMetricSeries ?? '-'}; last sample: ` +
      `heap held by V8 ${soak.samples.at(-1)?.heapTotalMb ?? '-'} MB, Buffers ${soak.samples.at(-1)?.externalMb ?? '-'} MB`,
    `  outbox jobs not done: ${soak.samples[0]?.outboxNotDone ?? '-'} at the start, ` +
      `${soak.samples.at(-1)?.outboxNotDone ?? '-'} at the end`,
    `  ${'minute'.padStart(9)}${pad('req/s', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}${pad('undesigned', 12)}` +
      `${pad('orders', 8)}${pad('heap floor MB', 15)}${pad('outbox not done', 17)}`,
  ];
  for (const m of soak.minutes) {
    lines.push(
      `  ${pad(`${m.minute}${m.seconds < 60 ? ` (${m.seconds} s)` : ''}`, 9)}${pad(m.rps, 8)}${pad(m.p99, 8)}` +
        `${pad(m.errors, 8)}${pad(m.undesigned, 12)}${pad(m.orders, 8)}${pad(m.heapFloorMb ?? '-', 15)}` +
        `${pad(m.outboxNotDone ?? '-', 17)}`,
    );
  }
  return lines;
}

export function printTable(results: ScenarioResult[], checks: string[]): void {
  const lines = [
    `${'scenario'.padEnd(34)}${pad('req/s', 9)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}${pad('non-2xx', 9)}${pad('undesigned', 12)}${pad('RSS MB', 8)}`,
  ];
  for (const r of results) {
    lines.push(
      `${r.title.padEnd(34)}${pad(Math.round(r.rps), 9)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.errors, 8)}${pad(r.non2xx, 9)}${pad(r.undesigned, 12)}${pad(r.peakRssMb, 8)}` +
        (r.note ? `  (${r.note})` : ''),
    );
  }
  const more = results.flatMap(details);
  const detail = more.length === 0 ? '' : `\n${more.join('\n')}\n`;
  process.stdout.write(`\n${lines.join('\n')}\n${detail}\n${checks.join('\n')}\n`);
}

/** A horizontal bar chart of requests per second, one bar per scenario, as a standalone SVG. */
export function chart(results: ScenarioResult[], subtitle: string): string {
  const width = 760;
  const left = 250;
  const bar = 26;
  const top = 56;
  const max = Math.max(...results.map((r) => r.rps), 1);
  const rows = results.map((r, i) => {
    const y = top + i * (bar + 10);
    const w = Math.max(1, ((width - left - 90) * r.rps) / max);
    const colour = r.name.startsWith('ceiling')
      ? '#888'
      : r.name.startsWith('cached')
        ? '#2a7ab8'
        : '#d08a2c';
    return (
      `<text x="${left - 8}" y="${y + 18}" text-anchor="end">${r.title}</text>` +
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${colour}"/>` +
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 18}">${Math.round(r.rps).toLocaleString('en')}</text>`
    );
  });
  const height = top + results.length * (bar + 10) + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
<title>bazaar bench: requests per second by scenario</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="24" font-size="16" font-weight="bold">bazaar bench: requests per second</text>
<text x="16" y="42" fill="#555">${subtitle}</text>
${rows.join('\n')}
</svg>
`;
}

export function writeResults(results: ScenarioResult[], meta: Record<string, unknown>): string {
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const base = path.join(dir, `bench-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ ...meta, results }, null, 2)}\n`);
  const subtitle = `${meta.products} products, ${meta.connections} connections, ${meta.duration} s per scenario, ${meta.date}`;
  writeFileSync(`${base}.svg`, chart(results, subtitle));
  return base;
}
