// Inventory collection of one unit holding 50,000 files, matched against a fingerprint index
// of 1,000 releases (500,000 hashes), in one process as the agent and controller would do
// it: time and peak memory, beside the floor `find … -type f -exec md5sum {} +` over the
// same tree, printed as a ratio; then the same collection again with the digest list the first
// one left (decision 0039), as the ratio of the two. Figures only: they depend on the disk and the machine's load.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectUnit, reportBody } from '../packages/agent/src/audit/collect.ts';
import { DigestCache } from '../packages/agent/src/audit/digest-cache.ts';
import { FingerprintIndex, findEmbedded, type ReleaseInfo } from '../packages/controller/src/domain/inventory/fingerprints.ts';

const FILES = 50_000;
const RELEASES = 1000;
const PER_RELEASE = 500;
const EMBEDDED = 300;

function releaseFile(i: number): string {
  return `/* file ${i} of libembedded 1.2 */\n` + 'x'.repeat(200 + (i % 50));
}

/**
 * The agent's part, in its own process: collect the unit and write the report's body, the
 * bytes the agent POSTs (its pieces, as the agent sends them). Peak RSS is the process's,
 * not the JS heap's; the idle figure is this process before collecting.
 */
async function agentChild(root: string, out: string): Promise<void> {
  const idleRssMb = process.memoryUsage().rss / 1024 ** 2;
  const target = { unit: 'bench/0', request: 1, root, unitDir: join(root, 'agents/unit-bench-0'), charmDir: join(root, 'agents/unit-bench-0/charm') };
  // As the agent collects: through its digest list, empty the first time. The tree was just
  // written, so the list's clock is set past the 2 s in which a changed file is not kept.
  const own = join(root, 'inventory-digests');
  const t0 = performance.now();
  const first = await DigestCache.load(root, own, Date.now() + 60_000);
  const report = await collectUnit({ ...target, md5: first.md5 });
  await first.save();
  const collectMs = performance.now() - t0;
  const firstRssMb = process.resourceUsage().maxRSS / 1024;
  const fd = openSync(out, 'w');
  for (const piece of reportBody(report)) writeSync(fd, piece);
  closeSync(fd);
  // The next collection on the same machine, nothing changed: stat only.
  const t1 = performance.now();
  const again = await DigestCache.load(root, own);
  await collectUnit({ ...target, md5: again.md5 });
  const repeatMs = performance.now() - t1;
  process.stdout.write(JSON.stringify({ files: report.files.length, skipped: report.skipped.count, collectMs, repeatMs, repeatRead: again.hashed, idleRssMb, maxRssMb: firstRssMb, repeatRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

/** The controller's part, in its own process: build the index of 500,000 hashes and match the report's files. */
function controllerChild(filesPath: string): void {
  const files = (JSON.parse(readFileSync(filesPath, 'utf8')) as { files: [string, string][] }).files;
  const t1 = performance.now();
  const releases: ReleaseInfo[] = Array.from({ length: RELEASES }, (_, i) => ({ name: i === 0 ? 'libembedded' : `lib${i % 200}`, version: i === 0 ? '1.2' : `1.${i}`, source: 'upstream' }));
  // Random digests stand in for 999 releases; release 0 is what the tree embeds (300 of its 500 files).
  const random = randomBytes(RELEASES * PER_RELEASE * 16);
  const entries = (function* () {
    for (let r = 0; r < RELEASES; r++) {
      for (let f = 0; f < PER_RELEASE; f++) {
        const md5 = r === 0 ? createHash('md5').update(releaseFile(f)).digest() : random.subarray((r * PER_RELEASE + f) * 16, (r * PER_RELEASE + f + 1) * 16);
        yield { release: r, md5, path: `src/dir${f % 10}/file${f}.c` };
      }
    }
  })();
  const ix = FingerprintIndex.build(releases, entries);
  const t2 = performance.now();
  const found = findEmbedded(ix, files);
  const t3 = performance.now();
  process.stdout.write(JSON.stringify({ indexMs: t2 - t1, matchMs: t3 - t2, entries: ix.entries, found: found.map((e) => `${e.name}=${e.version} (${e.matched}/${e.total} files, ${Math.floor(e.share)} %, ${e.kind})`), maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sigil-bench-audit-'));
  try {
    // 50,000 files: 49,700 unrelated ones in 500 directories, and an embedded copy of 300 files.
    const per = 100;
    for (let d = 0; d < (FILES - EMBEDDED) / per; d++) {
      const dir = join(root, 'machine', 'srv', 'app', `d${d}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < per; f++) writeFileSync(join(dir, `f${f}.txt`), `unrelated file ${d}/${f}\n` + 'y'.repeat(800 + f));
    }
    for (let f = 0; f < EMBEDDED; f++) {
      const dir = join(root, 'machine', 'srv', 'app', 'vendor', 'embedded-renamed', 'src', `dir${f % 10}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `file${f}.c`), releaseFile(f));
    }
    execFileSync('sync');
    // Warm the page cache once, then the floor, then Sigil's run in its own process.
    execFileSync('sh', ['-c', `find ${root}/machine/srv -type f -exec cat {} + > /dev/null`]);
    const f0 = performance.now();
    execFileSync('sh', ['-c', `find ${root}/machine/srv -type f -exec md5sum {} + > /dev/null`]);
    const floorMs = performance.now() - f0;
    const self = fileURLToPath(import.meta.url);
    const filesPath = join(root, 'report.json');
    const agent = JSON.parse(execFileSync(process.execPath, [self, 'agent', join(root, 'machine'), filesPath], { encoding: 'utf8' })) as { files: number; skipped: number; collectMs: number; repeatMs: number; repeatRead: number; idleRssMb: number; maxRssMb: number; repeatRssMb: number };
    const ctl = JSON.parse(execFileSync(process.execPath, [self, 'controller', filesPath], { encoding: 'utf8' })) as { indexMs: number; matchMs: number; entries: number; found: string[]; maxRssMb: number };
    const total = agent.collectMs + ctl.matchMs;
    console.log(`files hashed:               ${agent.files} (${agent.skipped} skipped)`);
    console.log(`collect (walk + md5):       ${(agent.collectMs / 1000).toFixed(2)} s; agent process peak RSS ${agent.maxRssMb.toFixed(0)} MB (goal < 100 MB; ${agent.idleRssMb.toFixed(0)} MB before collecting)`);
    console.log(`again, nothing changed:     ${(agent.repeatMs / 1000).toFixed(2)} s, ${agent.repeatRead} files read (the machine's digest list); ratio again / first ${(agent.repeatMs / agent.collectMs).toFixed(2)}; peak RSS after both ${agent.repeatRssMb.toFixed(0)} MB`);
    console.log(`index:                      ${RELEASES} releases, ${ctl.entries} hashes, built in ${(ctl.indexMs / 1000).toFixed(2)} s (once per index generation)`);
    console.log(`match against the index:    ${(ctl.matchMs / 1000).toFixed(2)} s; controller-side process peak RSS ${ctl.maxRssMb.toFixed(0)} MB (index + report)`);
    console.log(`collect + match:            ${(total / 1000).toFixed(2)} s (goal < 10 s)`);
    console.log(`find -exec md5sum {} + floor: ${(floorMs / 1000).toFixed(2)} s`);
    console.log(`ratio collect / floor:      ${(agent.collectMs / floorMs).toFixed(2)}x`);
    console.log(`found:                      ${ctl.found.join('; ') || 'nothing (expected libembedded=1.2)'}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'agent') await agentChild(process.argv[3]!, process.argv[4]!);
else if (process.argv[2] === 'controller') controllerChild(process.argv[3]!);
else await main();
