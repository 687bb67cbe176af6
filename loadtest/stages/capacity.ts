// Capacity: as many idle TCP long links as the open-files limit allows, each
// a logged-in device heartbeating, held for several heartbeat intervals; the
// server's memory per link against a bare TCP server holding as many idle
// sockets; then a short open phase of sends across the idle links.
import net from 'node:net';
import { assertLoopback } from '../loopback.ts';
import { openFileLimit } from '../memory.ts';
import { runPhase } from '../phase-runner.ts';
import { Population } from '../population.ts';
import type { CapacityReport } from '../report.ts';
import { HOST, type RunContext } from '../run-context.ts';
import { startSyncKey } from '../server-under-test.ts';
import { ServerChild } from '../server-process.ts';
import type { ServerSample } from '../target.ts';

/** Descriptors a process holds besides its links: stdio, SQLite, listeners, IPC (a few dozen), with room to spare. */
const FD_MARGIN = 100;
/** Idle sockets connecting at once. */
const IDLE_CONNECT_CONCURRENCY = 256;
const CAPACITY_LOGIN_TIMEOUT_MS = 300_000;
const CAPACITY_REGISTER_CONCURRENCY = 32;
/** Server sampling period through the login ramp and the hold, and during the hold itself. */
const RAMP_SAMPLE_EVERY_MS = 1000;
const HOLD_SAMPLE_EVERY_MS = 2000;
/** How long the bare server holds its idle sockets before it is sampled. */
const BARE_SETTLE_MS = 3000;
/** The live phase's message bound: a minute at its rate. */
const LIVE_MAX_MESSAGES_SECONDS = 60;
const LIVE_CONTENT_BYTES: [number, number] = [40, 120];

function mb(b: number | undefined): string {
  return b === undefined ? '?' : `${(b / 1048576).toFixed(1)} MB`;
}

/** Opens `n` idle raw TCP connections (for the capacity baseline); resolves with them once all are connected. */
export async function openIdleSockets(host: string, port: number, n: number, concurrency = IDLE_CONNECT_CONCURRENCY): Promise<net.Socket[]> {
  assertLoopback(host);
  const sockets: net.Socket[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const s = await new Promise<net.Socket>((resolve, reject) => {
        const x = net.connect(port, host, () => {
          x.off('error', reject);
          resolve(x);
        });
        x.once('error', reject);
      });
      s.on('error', () => {});
      sockets.push(s);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } catch (e) {
    for (const s of sockets) s.destroy();
    throw e;
  }
  return sockets;
}

export async function capacityStage(run: RunContext): Promise<CapacityReport> {
  const c = run.o.profile.capacity!;
  const fdLimit = openFileLimit();
  // The driver and the server each hold one descriptor per link, plus their own (stdio, SQLite, listeners, IPC: a few dozen).
  // In-process, one process holds both ends of every link.
  const budget = fdLimit === undefined ? c.links : Math.floor((fdLimit - FD_MARGIN) / (run.o.inProcess ? 2 : 1));
  const reach = Math.max(1, Math.min(c.links, budget));
  run.log(`capacity: ${reach} idle TCP long links (wanted ${c.links}; open-files limit ${fdLimit ?? 'unknown'}), heartbeat ${c.heartbeatSec} s`);
  const srv = await startSyncKey(run);
  const memory: CapacityReport['memory'] = [];
  const bareMemory: CapacityReport['bareMemory'] = [];
  // The server's memory and open links through the login ramp and the hold.
  let sampling: Promise<void> = Promise.resolve();
  const ticker = setInterval(() => {
    sampling = sampling.then(async () => {
      const s = await srv.sample(false);
      if (s) memory.push({ t: run.sec(), rssBytes: s.rssBytes, ...(s.heapUsedBytes !== undefined ? { heapUsedBytes: s.heapUsedBytes } : {}), ...(s.openLinks !== undefined ? { openLinks: s.openLinks } : {}) });
    });
  }, RAMP_SAMPLE_EVERY_MS);
  let report: CapacityReport;
  try {
    let before: ServerSample | undefined;
    const pop = await Population.create(
      srv.target,
      {
        prefix: `c${run.tag}x`,
        tcp: reach,
        ws: 0,
        http: 0,
        devicesPerAccount: c.devicesPerAccount,
        groups: 0,
        groupSize: 0,
        loginBatch: c.loginBatch,
        loginTimeoutMs: CAPACITY_LOGIN_TIMEOUT_MS,
        registerConcurrency: CAPACITY_REGISTER_CONCURRENCY,
        onRegistered: async () => {
          before = await srv.sample(true);
          run.log(`  accounts registered; server RSS ${mb(before?.rssBytes)}, heap ${mb(before?.heapUsedBytes)}`);
        },
      },
      (l) => run.log(l),
    );
    try {
      run.log(`  ${reach} links logged in in ${(pop.info.loginMs / 1000).toFixed(1)} s; holding them idle for ${c.holdMs / 1000} s`);
      const idle = await pop.idle(c.holdMs, HOLD_SAMPLE_EVERY_MS);
      clearInterval(ticker);
      await sampling;
      const after = await srv.sample(true);
      run.log(`  after the hold: server RSS ${mb(after?.rssBytes)}, heap ${mb(after?.heapUsedBytes)}, open links ${after?.openLinks}, client-seen drops ${idle.linkDrops}`);
      if (c.liveRate > 0) {
        const at = run.sec();
        const live = await runPhase(pop, {
          name: 'sends across the idle links',
          mode: 'open',
          rate: c.liveRate,
          durationMs: c.liveMs,
          maxMessages: c.liveRate * LIVE_MAX_MESSAGES_SECONDS,
          contentBytes: LIVE_CONTENT_BYTES,
          quiesceTimeoutMs: run.o.profile.quiesceTimeoutMs,
        });
        run.record(live, 'capacity', 'live', at, { population: pop.info });
      }
      const b = before?.rssBytes ?? 0;
      report = {
        wantedLinks: c.links,
        reachedLinks: reach,
        fdLimit,
        heartbeatSec: c.heartbeatSec,
        holdMs: c.holdMs,
        loginMs: pop.info.loginMs,
        serverOpenLinksAfterHold: after?.openLinks,
        linkDropsDuringHold: idle.linkDrops,
        server: {
          rssBefore: b,
          rssAfter: after?.rssBytes ?? 0,
          ...(before?.heapUsedBytes !== undefined ? { heapBefore: before.heapUsedBytes } : {}),
          ...(after?.heapUsedBytes !== undefined ? { heapAfter: after.heapUsedBytes } : {}),
        },
        bare: undefined,
        rssPerLinkBytes: Math.round(((after?.rssBytes ?? 0) - b) / reach),
        ...(before?.heapUsedBytes !== undefined && after?.heapUsedBytes !== undefined
          ? { heapPerLinkBytes: Math.round((after.heapUsedBytes - before.heapUsedBytes) / reach) }
          : {}),
        memory,
        bareMemory,
      };
    } finally {
      pop.close();
    }
  } finally {
    clearInterval(ticker);
    await sampling;
    await srv.close();
  }
  if (run.o.profile.bare) await bareIdleSockets(run, reach, report);
  return report;
}

/** The baseline: a bare TCP server's memory before and after `n` idle sockets, into `report`. */
async function bareIdleSockets(run: RunContext, n: number, report: CapacityReport): Promise<void> {
  run.log(`  bare TCP server holding ${n} idle sockets`);
  const bare = await ServerChild.start(['--mode', 'bare-tcp', '--host', HOST]);
  run.children.add(bare);
  try {
    const before = await bare.sample(true);
    if (before) report.bareMemory.push({ t: run.sec(), rssBytes: before.rssBytes, openLinks: 0 });
    const sockets = await openIdleSockets(HOST, bare.ready.port, n);
    try {
      await new Promise((r) => setTimeout(r, BARE_SETTLE_MS));
      const after = await bare.sample(true);
      if (after) report.bareMemory.push({ t: run.sec(), rssBytes: after.rssBytes, openLinks: sockets.length });
      report.bare = {
        sockets: sockets.length,
        rssBefore: before?.rssBytes ?? 0,
        rssAfter: after?.rssBytes ?? 0,
        ...(before?.heapUsedBytes !== undefined ? { heapBefore: before.heapUsedBytes } : {}),
        ...(after?.heapUsedBytes !== undefined ? { heapAfter: after.heapUsedBytes } : {}),
      };
      report.bareRssPerSocketBytes = Math.round(((after?.rssBytes ?? 0) - (before?.rssBytes ?? 0)) / sockets.length);
      if (before?.heapUsedBytes !== undefined && after?.heapUsedBytes !== undefined) {
        report.bareHeapPerSocketBytes = Math.round((after.heapUsedBytes - before.heapUsedBytes) / sockets.length);
      }
      run.log(`  bare: RSS ${mb(before?.rssBytes)} → ${mb(after?.rssBytes)}, heap ${mb(before?.heapUsedBytes)} → ${mb(after?.heapUsedBytes)}`);
    } finally {
      for (const s of sockets) s.destroy();
    }
  } finally {
    await bare.close();
    run.children.delete(bare);
  }
}
