// The ceiling: a bare node:http server answering every request with the bytes and headers of one product
// detail, read from the file given. Nothing Bazaar does per request can be faster than this on this machine.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, file, etag] = process.argv.slice(2);
const body = readFileSync(file);
const headers = {
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(body.length),
  etag,
  'cache-control': 'public, max-age=5',
};
createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
