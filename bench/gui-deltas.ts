// Sustained delta rate in the web GUI: unit status changes are committed to the controller's
// store one transaction (one change-log event) at a time at a fixed rate, while a headless
// chromium shows the 1,000-unit model. Measured in the page: deltas applied (none may be
// lost), frame intervals (a frame over 2x16.7 ms is a dropped frame) and the delay from
// commit to the change being in the browser's model. Target: at least 200 events/s.
import { firstRender, launch, simulatedController, MODEL, type PageGlobals } from './gui-render.ts';
import { ms, stats } from './lib.ts';

const RATES = [200, 500, 1000];
const SECONDS = 5;

const sim = await simulatedController(100, 10);
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await firstRender(page, sim.login(), 100);
  // The GUI saves the positions it chose for the unplaced applications half a second after
  // the first render; measure the steady state after that.
  await new Promise((r) => setTimeout(r, 1500));
  const update = sim.svc.store.db.prepare('UPDATE units SET workload = ? WHERE model = ? AND name = ?');
  const states = ['active', 'maintenance', 'active', 'waiting'];
  let n = 0;
  const commit = () => {
    const unit = sim.units[n % sim.units.length]!;
    const current = states[Math.floor(n / sim.units.length) % states.length]!;
    sim.svc.store.tx(() => {
      update.run(JSON.stringify({ current, message: `t=${Date.now()}`, since: Date.now() }), MODEL, unit);
      sim.svc.store.changed(MODEL, 'unit', unit);
    });
    n++;
  };
  console.log(`GUI deltas, ${sim.units.length} units / 100 apps, ${SECONDS} s per rate (one unit status change per event):`);
  for (const rate of RATES) {
    await page.evaluate(() => {
      const w = globalThis as unknown as PageGlobals;
      const feed = w.__sigil.feed;
      const frames: number[] = [];
      const latency: number[] = [];
      let last = performance.now();
      let running = true;
      const tick = (t: number) => {
        frames.push(t - last);
        last = t;
        if (running) w.requestAnimationFrame(tick);
      };
      w.requestAnimationFrame(tick);
      let prev = feed.state.model?.units ?? {};
      const unsubscribe = feed.subscribe(() => {
        const units = feed.state.model?.units ?? {};
        const now = Date.now();
        for (const [k, u] of Object.entries(units)) if (u !== prev[k] && u.workload.message.startsWith('t=')) latency.push(now - Number(u.workload.message.slice(2)));
        prev = units;
      });
      w.__bench = { start: feed.applied, frames, latency, stop: () => { running = false; unsubscribe(); } };
    });
    const start = n;
    const began = performance.now();
    // Commits are spread over 10 ms ticks, each catching up to where the rate says it should be.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(rate * SECONDS, Math.floor(((performance.now() - began) / 1000) * rate));
        while (n - start < due) commit();
        if (n - start >= rate * SECONDS) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const sent = n - start;
    const elapsed = (performance.now() - began) / 1000;
    // Done when the browser's model holds every unit's latest message. Each delta carries the
    // whole unit, so two commits to one unit inside one flush arrive as one (coalesced).
    const latest = Object.fromEntries(sim.svc.reads.units(MODEL).map((u) => [u.name, u.workload.message]));
    const caughtUp = await page.waitForFunction((want) => {
      const units = (globalThis as unknown as PageGlobals).__sigil.feed.state.model?.units ?? {};
      return Object.entries(want).every(([k, m]) => units[k]?.workload.message === m);
    }, latest, { timeout: 30_000 }).then(() => true, () => false);
    const r = await page.evaluate((want) => {
      const w = globalThis as unknown as PageGlobals;
      w.__bench.stop();
      const units = w.__sigil.feed.state.model?.units ?? {};
      const stale = Object.entries(want).filter(([k, m]) => units[k]?.workload.message !== m).length;
      return { applied: w.__sigil.feed.applied - w.__bench.start, frames: w.__bench.frames.slice(1), latency: w.__bench.latency, stale };
    }, latest);
    const f = stats(r.frames);
    const dropped = r.frames.filter((x) => x > 2 * 16.7).length;
    const l = stats(r.latency);
    console.log(
      `  ${rate}/s: sent ${sent} in ${elapsed.toFixed(1)} s, ${r.applied} deltas applied (${sent - r.applied} coalesced), ${caughtUp ? 'browser caught up' : `${r.stale} units STALE after 30 s`}; ` +
      `${r.frames.length} frames, median ${ms(f.median)}, p99 ${ms(f.p99)}, ${dropped} over 33 ms (${((100 * dropped) / Math.max(1, r.frames.length)).toFixed(1)}%); ` +
      `commit→browser median ${ms(l.median)}, p99 ${ms(l.p99)}`,
    );
  }
} finally {
  await browser.close();
  await sim.close();
}
