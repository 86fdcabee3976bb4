/**
 * What a password hash costs on this machine: argon2id with Bazaar's parameters (and two stronger OWASP
 * settings for comparison), hashing and verifying, plus a check that verifying against the dummy hash used for
 * unknown accounts costs the same as a wrong password for a real one.
 *
 *   npx tsx bench/argon2.ts [iterations]     (default 40)
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_OPTIONS } from '../src/modules/users/passwords.js';

const iterations = Number(process.argv[2] ?? 40);

const SETTINGS = [
  { name: 'Bazaar (m=19 MiB, t=2, p=1)', options: ARGON2_OPTIONS },
  { name: 'OWASP alt (m=46 MiB, t=1, p=1)', options: { ...ARGON2_OPTIONS, memoryCost: 47_104, timeCost: 1 } },
  { name: 'OWASP alt (m=12 MiB, t=3, p=1)', options: { ...ARGON2_OPTIONS, memoryCost: 12_288, timeCost: 3 } },
];

async function time(fn: () => Promise<unknown>): Promise<{ median: number; p95: number; mean: number }> {
  await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number;
  return { median: at(0.5), p95: at(0.95), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

const fmt = (stats: { median: number; p95: number; mean: number }) =>
  `median ${stats.median.toFixed(1)} ms  p95 ${stats.p95.toFixed(1)} ms  mean ${stats.mean.toFixed(1)} ms`;

console.log(
  `argon2id on ${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, Node ${process.version}`,
);
console.log(`${iterations} iterations each; the machine may be shared, so compare rows of one run.\n`);

for (const { name, options } of SETTINGS) {
  const password = 'correct horse battery staple';
  const stored = await hash(password, options);
  console.log(name);
  console.log(`  hash            ${fmt(await time(() => hash(password, options)))}`);
  console.log(`  verify (wrong)  ${fmt(await time(() => verify(stored, 'wrong password')))}`);
}

// Login of an unknown account verifies against a dummy hash made with the same parameters.
const real = await hash('the real password', ARGON2_OPTIONS);
const dummy = await hash(randomBytes(16).toString('hex'), ARGON2_OPTIONS);
const wrong = await time(() => verify(real, 'a guess'));
const unknown = await time(() => verify(dummy, 'a guess'));
console.log('\nlogin work: wrong password vs unknown account (Bazaar parameters)');
console.log(`  wrong password   ${fmt(wrong)}`);
console.log(`  unknown account  ${fmt(unknown)}`);
console.log(`  ratio of medians ${(unknown.median / wrong.median).toFixed(2)}`);
