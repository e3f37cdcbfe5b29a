// Every test file (a vitest setup file): reports on stderr when this worker's event loop was
// held for a long stretch, naming the file and the test that held it. Vitest fails the whole
// run when a worker cannot answer its RPC for 60 s ("Timeout calling onTaskUpdate") without
// saying which worker it was; this says.
import { expect } from 'vitest';

const EVERY_MS = 1000;
const REPORT_MS = Number(process.env.SIGIL_LOOP_WATCH_MS ?? 15_000);
let due = Date.now() + EVERY_MS;
let lastTest = '(between tests)';
setInterval(() => {
  const held = Date.now() - due;
  const now = expect.getState().currentTestName ?? '(between tests)';
  if (held >= REPORT_MS) {
    const file = expect.getState().testPath ?? '(unknown file)';
    process.stderr.write(`[loop-watch] the event loop of ${file} was held for ${Math.round(held / 1000)} s, during "${lastTest}" (now "${now}")\n`);
  }
  lastTest = now;
  due = Date.now() + EVERY_MS;
}, EVERY_MS).unref();
