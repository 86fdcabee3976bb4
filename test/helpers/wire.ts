import net from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that counts the client's round trips: every simple Query message and every
 * Sync (which ends an extended-protocol statement) waits for the server's ReadyForQuery. It keeps the text of the
 * simple Query messages too: what PostgreSQL would log of them on an error.
 */
export async function countingProxy(target: URL) {
  let roundTrips = 0;
  const queryTexts: string[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    let pending = Buffer.alloc(0);
    let startup = true;
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const header = startup ? 4 : 5;
        if (pending.length < header) break;
        const length = startup ? pending.readInt32BE(0) : pending.readInt32BE(1) + 1;
        if (pending.length < length) break;
        const type = startup ? '' : String.fromCharCode(pending[0] as number);
        if (type === 'Q' || type === 'S') roundTrips += 1;
        if (type === 'Q') queryTexts.push(pending.toString('utf8', 5, length - 1));
        pending = pending.subarray(length);
        startup = false;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    roundTrips: () => roundTrips,
    queryTexts: () => queryTexts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
