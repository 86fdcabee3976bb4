import { once } from 'node:events';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes a catalog for `bazaar import` into DIR: categories.csv (a two-level tree) and products.csv with N
 * products (default 1,000,000, about 90 MB). Usage: node --import tsx bench/generate-catalog-csv.ts DIR [N]
 * Never commit the output.
 */

const [dir, countArg] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: generate-catalog-csv.ts DIR [N]\n');
  process.exit(2);
}
const count = Number(countArg ?? 1_000_000);
mkdirSync(dir, { recursive: true });

const ROOTS = ['Home', 'Garden', 'Office', 'Sports', 'Kitchen', 'Toys', 'Audio', 'Books'];
const LEAVES = ['Basics', 'Premium', 'Outlet', 'New'];
const categories = ['id,name,parent_id'];
const leafIds: number[] = [];
ROOTS.forEach((root, r) => {
  const rootId = 100_000 + r * 10;
  categories.push(`${rootId},${root},`);
  LEAVES.forEach((leaf, l) => {
    categories.push(`${rootId + l + 1},${root} ${leaf},${rootId}`);
    leafIds.push(rootId + l + 1);
  });
});
writeFileSync(path.join(dir, 'categories.csv'), `${categories.join('\n')}\n`);

const WORDS = ['Oak', 'Steel', 'Linen', 'Compact', 'Deluxe', 'Travel', 'Classic', 'Smart', 'Quiet', 'Bright'];
const out = createWriteStream(path.join(dir, 'products.csv'));
out.write('name,description,price,stock_quantity,category_id\n');
let chunk = '';
for (let i = 0; i < count; i += 1) {
  const a = WORDS[i % 10] ?? '';
  const b = WORDS[Math.floor(i / 10) % 10] ?? '';
  const price = `${1 + (i % 997)}.${String(i % 100).padStart(2, '0')}`;
  chunk += `${a} ${b} item ${i},"A ${a.toLowerCase()}, ${b.toLowerCase()} thing, number ${i}.",${price},${i % 250},${leafIds[i % leafIds.length]}\n`;
  if (chunk.length > 1 << 20) {
    if (!out.write(chunk)) await once(out, 'drain');
    chunk = '';
  }
}
out.end(chunk);
await once(out, 'finish');
process.stdout.write(`wrote ${categories.length - 1} categories and ${count} products to ${dir}\n`);
