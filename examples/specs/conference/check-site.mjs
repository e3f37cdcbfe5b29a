#!/usr/bin/env node
// Verify: fetch the schedule through HAProxy's published port and check the page says
// $EXPECT; with $BACKENDS, also that HAProxy spread the requests over that many Django units.
import { execFileSync } from 'node:child_process';

const model = process.env.SIGIL_MODEL;
const status = JSON.parse(execFileSync('sigil', ['status', ...(model ? ['-m', model] : []), '--format', 'json'], { encoding: 'utf8' }));
const haproxy = status.applications.haproxy?.units?.['haproxy/0'];
const published = (haproxy?.['published-ports'] ?? []).find((p) => p.endsWith('->80/tcp'));
if (!published) {
  console.log('haproxy/0 has no published port 80 yet');
  process.exit(1);
}
const port = /^\*:(\d+)->80\/tcp$/.exec(published)[1];
const url = `http://127.0.0.1:${port}/`;
const want = Number(process.env.BACKENDS ?? '1');
const servedBy = new Set();
for (let i = 0; i < want * 4 && servedBy.size < want; i++) {
  const res = await fetch(url, { headers: { host: `127.0.0.1:${port}` } });
  const body = await res.text();
  if (res.status !== 200 || !body.includes(process.env.EXPECT ?? '')) {
    console.log(`${url} answered ${res.status}${res.status === 200 ? ` without "${process.env.EXPECT}"` : ''}`);
    process.exit(1);
  }
  servedBy.add(/Served by (\S+)/.exec(body)?.[1] ?? '?');
}
console.log(`${url} serves the schedule from ${servedBy.size} Django unit${servedBy.size === 1 ? '' : 's'}: ${[...servedBy].sort().join(', ')}`);
process.exit(servedBy.size >= want ? 0 : 1);
