import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createWakeup } from '../../src/platform/jobs/wakeup.js';

it('a woken loop starts its next round no sooner than the gap after the last one began', async () => {
  const wakeup = createWakeup(60);
  const began = performance.now();
  wakeup.begin();
  // Notifications arriving all through the round and after it: the sleep ends once, at the gap.
  const timer = setInterval(() => wakeup.wake(), 5);
  try {
    await wakeup.sleep(10_000);
  } finally {
    clearInterval(timer);
  }
  const waited = performance.now() - began;
  assert.ok(waited >= 60, `waited ${waited} ms`);
  assert.ok(waited < 1_000, `a wake ends the idle sleep: waited ${waited} ms`);
});

it('a wake during a round is kept, one before it is spent, and an idle loop sleeps its full poll', async () => {
  const wakeup = createWakeup(0);
  wakeup.wake();
  wakeup.begin();
  let started = performance.now();
  await wakeup.sleep(80);
  assert.ok(performance.now() - started >= 75, 'a wake before begin() does not cut the next sleep short');

  wakeup.begin();
  wakeup.wake();
  started = performance.now();
  await wakeup.sleep(10_000);
  assert.ok(performance.now() - started < 50, 'a wake during the round ends the sleep at once');
});
