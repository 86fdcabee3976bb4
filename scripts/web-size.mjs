#!/usr/bin/env node
// Prints what a shopper's browser downloads before the storefront draws: the entry script and every script it
// imports statically (the manager is a separate, lazily loaded chunk), gzipped as the server sends them.
// Fails when the storefront's initial JavaScript passes the budget. Run after `npm run build`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 150;
const dist = fileURLToPath(new URL('../web/dist/', import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(dist, '.vite/manifest.json'), 'utf8'));

const gzipKb = (file) => gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length / 1024;

function initialChunks(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const next of manifest[key]?.imports ?? []) initialChunks(next, seen);
  return seen;
}

const entry = Object.keys(manifest).find((key) => manifest[key].isEntry);
const chunks = [...initialChunks(entry)].map((key) => manifest[key]);
const js = chunks.reduce((sum, chunk) => sum + gzipKb(chunk.file), 0);
const css = chunks.flatMap((chunk) => chunk.css ?? []).reduce((sum, file) => sum + gzipKb(file), 0);
const lazy = Object.values(manifest)
  .filter((chunk) => chunk.isDynamicEntry)
  .map((chunk) => `${chunk.name} ${gzipKb(chunk.file).toFixed(1)} KB`);

console.log(`storefront initial JavaScript: ${js.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`);
console.log(`storefront CSS: ${css.toFixed(1)} KB gzipped`);
if (lazy.length > 0) console.log(`loaded on demand: ${lazy.join(', ')}`);
if (js > BUDGET_KB) {
  console.error(`over budget by ${(js - BUDGET_KB).toFixed(1)} KB`);
  process.exit(1);
}
