// The ceiling: a bare node:http server answering every request with the same bytes as one product detail: its
// body and every header the API sent with it, read from the files given. Node writes Date, Connection and
// Keep-Alive itself, as it does for the API; the keep-alive timeout is the API's, so that line is the same too.
// Nothing Bazaar does per request can be faster than this on this machine.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, bodyFile, headersFile, keepAliveSeconds] = process.argv.slice(2);
const body = readFileSync(bodyFile);
/** [name, value, ...], as the API's front door hands them to writeHead. */
const headers = JSON.parse(readFileSync(headersFile, 'utf8'));
const server = createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
});
server.keepAliveTimeout = Number(keepAliveSeconds) * 1000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
