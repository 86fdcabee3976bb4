#!/usr/bin/env node
// Runs every test file under test/ (or the files and folders given) with node:test, TypeScript through tsx.
// Files run two at a time (the machines have two cores); each file works in its own fresh databases.
// Files named *.serial.test.ts disturb shared services (one restarts the RabbitMQ broker), so they run
// afterwards, alone.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function collect(target) {
  if (statSync(target).isFile()) return [target];
  return readdirSync(target, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(target, entry.name);
      if (entry.isDirectory()) return collect(full);
      return entry.name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

const targets = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const files = (targets.length > 0 ? targets : ['test']).flatMap(collect);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const run = (group, concurrency) => {
  if (group.length === 0) return 0;
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000'];
  return spawnSync(process.execPath, [...args, ...flags, ...group], { stdio: 'inherit' }).status ?? 1;
};
const serial = files.filter((file) => file.endsWith('.serial.test.ts'));
const parallel = files.filter((file) => !serial.includes(file));
const parallelStatus = run(parallel, process.env.TEST_CONCURRENCY ?? '2');
const serialStatus = run(serial, '1');
process.exit(parallelStatus || serialStatus);
