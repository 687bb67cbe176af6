// Capacity: the profile's idle TCP long links (50,000), each a logged-in
// device heartbeating, held for several heartbeat intervals; the server's
// memory per link against a bare TCP server holding as many idle sockets;
// then a short open phase of sends to accounts whose devices hold links.
//
// One process can hold at most its open-files limit of sockets, so the
// links come from link-holder processes (capacity/link-holder.ts), each
// under a limit of its own and from a loopback source address of its own
// (one address's ephemeral ports cannot reach 50,000 links to one port). The
// server and the holders are started under the limit they need
// (capacity/fd-limit.ts); where the system allows less, the server's limit
// bounds the links and the log says why in one line.
import { parseHostPort } from '../../client/net/server-address.ts';
import { procAnonRssBytes } from '../capacity/anon-rss.ts';
import { planFdLimit } from '../capacity/fd-limit.ts';
import { HOLDER_FD_MARGIN, HolderFleet, holdersFor, MAX_LINKS_PER_HOLDER, type FleetTotals } from '../capacity/holder-fleet.ts';
import { runPhase } from '../phase-runner.ts';
import { Population } from '../population.ts';
import type { CapacityReport } from '../report.ts';
import { HOST, type RunContext } from '../run-context.ts';
import { startSyncKey } from '../server-under-test.ts';
import { LOAD_TRANSPORT_LIMITS } from '../server-limits.ts';
import { ServerChild } from '../server-process.ts';
import { transportLimits } from '../../server/transport/transport-limits.ts';
import type { ServerSample } from '../target.ts';

/** Descriptors the server holds besides its links: stdio, SQLite and its WAL, listeners, IPC, HTTP (a few dozen), with room to spare. */
const SERVER_FD_MARGIN = 200;
/** HTTP connections the server may hold besides the links (registration's keep-alive sockets closing). */
const HTTP_CONNECTION_MARGIN = 64;
/** The bare server's: stdio, listener, IPC. */
const BARE_FD_MARGIN = 64;
/** The target of issue 10: server memory (anonymous RSS) per idle link. */
const TARGET_BYTES_PER_LINK = 4096;
const PASSWORD = 'capacity-password';
/** Server sampling period through the login ramp and the hold. */
const SAMPLE_EVERY_MS = 2000;
/** How long a server rests between a full GC and the sample after it (the bare server: with its idle sockets). */
const SETTLE_MS = 3000;
/** The live phase: this many devices of their own (two per account), on the first accounts of the held links. */
const LIVE_DEVICES = 64;
const LIVE_DEVICES_PER_ACCOUNT = 2;
const LIVE_LOGIN_TIMEOUT_MS = 60_000;
/** The live phase's message bound: a minute at its rate. */
const LIVE_MAX_MESSAGES_SECONDS = 60;
const LIVE_CONTENT_BYTES: [number, number] = [40, 120];

function mb(b: number | undefined): string {
  return b === undefined ? '?' : `${(b / 1048576).toFixed(1)} MB`;
}
function kib(b: number | undefined): string {
  return b === undefined ? '?' : `${(b / 1024).toFixed(2)} KiB`;
}

/** The report's capacity section, with what this stage adds to report.json. */
export interface CapacityFigures extends CapacityReport {
  /** How the open-files limits were got, or why not (one line). */
  fdLimitHow: string;
  holders: { processes: number; linksEach: number; fdLimit: number | undefined };
  /** Logins that failed after their retries (their errors, a few). */
  loginFailures: number;
  loginErrors: string[];
  heartbeats: { sent: number; replies: number };
  /** Server memory per link less the bare server's per socket. */
  rssPerLinkOverBareBytes?: number;
  /**
   * Anonymous RSS (capacity/anon-rss.ts): the process's own memory without
   * mapped file pages, the steadier figure, and the one the target is read on.
   */
  anon: { serverBefore?: number; serverAfter?: number; perLinkBytes?: number; bareBefore?: number; bareAfter?: number; perSocketBytes?: number; perLinkOverBareBytes?: number };
  /** The target: `links` links at most `bytesPerLink` of the server's anonymous RSS each. */
  target: { links: number; bytesPerLink: number; met: boolean };
  /** Seconds the whole stage took. */
  stageSec: number;
}

export async function capacityStage(run: RunContext): Promise<CapacityFigures> {
  const t0 = performance.now();
  const c = run.o.profile.capacity!;
  const serverPlan = planFdLimit(c.links + LIVE_DEVICES + SERVER_FD_MARGIN);
  run.log(`capacity: ${c.links} idle TCP long links wanted, heartbeat ${c.heartbeatSec} s; open files: ${serverPlan.how}`);
  const srv = await startSyncKey(run, serverPlan.want);
  const serverFd = srv.fdLimit;
  // An in-process server shares the driver's limit with nothing else now: the holders are other processes.
  const fdBudget = serverFd === undefined ? c.links : serverFd - SERVER_FD_MARGIN - LIVE_DEVICES;
  // The server's cap on connections in all (TCP, WebSocket, HTTP): the live devices and registration's HTTP sockets count too.
  const connCap = run.o.server ? Infinity : transportLimits(LOAD_TRANSPORT_LIMITS).maxConnections;
  const connBudget = connCap - LIVE_DEVICES - HTTP_CONNECTION_MARGIN;
  const accounts = Math.max(1, Math.floor(Math.min(c.links, fdBudget, connBudget) / c.devicesPerAccount));
  const links = accounts * c.devicesPerAccount;
  if (links < c.links) {
    run.log(
      fdBudget <= connBudget
        ? `  the server's open-files limit is ${serverFd}: ${links} links is what it can hold (${serverPlan.how})`
        : `  the server's load-test cap is ${connCap} connections in all (maxConnections, loadtest/server-limits.ts): ${links} idle links beside the live devices`,
    );
  }

  const holderPlan = planFdLimit(MAX_LINKS_PER_HOLDER + HOLDER_FD_MARGIN);
  const perHolder = Math.min(MAX_LINKS_PER_HOLDER, holderPlan.limit - HOLDER_FD_MARGIN);
  // Whole accounts per holder: round the share up to devicesPerAccount.
  const nHolders = holdersFor(links, perHolder - (perHolder % c.devicesPerAccount));
  const { host, port } = parseHostPort(srv.target.tcp);
  const memory: CapacityReport['memory'] = [];
  let sampling: Promise<void> = Promise.resolve();
  let ticker: NodeJS.Timeout | undefined;
  let fleet: HolderFleet | undefined;
  let serverUp = true;
  try {
    fleet = await HolderFleet.start(nHolders, host, port, holderPlan.want);
    run.children.add(fleet);
    run.log(`  ${nHolders} link holders (~${Math.ceil(links / nHolders)} links each, open-files limit ${fleet.fdLimit ?? '?'}), from 127.0.0.2 on`);
    const names = Array.from({ length: accounts }, (_, i) => `c${run.tag}x${i}`);
    const r0 = performance.now();
    await fleet.register(srv.target.server, names, PASSWORD);
    const before = await settledSample(srv.sample);
    const anonBefore = anonOf(srv.pid);
    run.log(`  ${accounts} accounts registered in ${((performance.now() - r0) / 1000).toFixed(1)} s; server RSS ${mb(before?.rssBytes)} (anonymous ${mb(anonBefore)}), heap ${mb(before?.heapUsedBytes)}`);

    ticker = setInterval(() => {
      sampling = sampling.then(async () => {
        const s = await srv.sample(false);
        if (s) memory.push({ t: run.sec(), rssBytes: s.rssBytes, ...(s.heapUsedBytes !== undefined ? { heapUsedBytes: s.heapUsedBytes } : {}), ...(s.openLinks !== undefined ? { openLinks: s.openLinks } : {}) });
      });
    }, SAMPLE_EVERY_MS);
    const l0 = performance.now();
    const opened = await fleet.openLinks(names, c.devicesPerAccount, PASSWORD, c.loginBatch, (l) => run.log(l));
    const loginMs = performance.now() - l0;
    run.log(`  ${opened.ready} links logged in and synced in ${(loginMs / 1000).toFixed(1)} s (${Math.round(opened.ready / (loginMs / 1000))}/s), ${opened.failed} failed${opened.errors.length ? `: ${opened.errors.slice(0, 2).join('; ')}` : ''}`);
    run.log(`  holding them idle for ${c.holdMs / 1000} s`);
    const held0 = await fleet.stats();
    await new Promise((r) => setTimeout(r, c.holdMs));
    const held1 = await fleet.stats();
    clearInterval(ticker);
    await sampling;
    const after = await settledSample(srv.sample);
    const anonAfter = anonOf(srv.pid);
    const drops = held1.counters.drops - held0.counters.drops;
    run.log(
      `  after the hold: server RSS ${mb(after?.rssBytes)} (anonymous ${mb(anonAfter)}), heap ${mb(after?.heapUsedBytes)}, open links ${after?.openLinks}; ` +
        `holders: ${held1.ready} ready, ${drops} drops, ${held1.counters.heartbeatsSent - held0.counters.heartbeatsSent} heartbeats (${held1.counters.heartbeatReplies - held0.counters.heartbeatReplies} answered)` +
        `${Object.keys(held1.counters.disconnects).length ? `, op 6 by Ret ${JSON.stringify(held1.counters.disconnects)}` : ''}`,
    );
    if (c.liveRate > 0) await liveSends(run, srv.target, `c${run.tag}x`, fleet);

    const b = before?.rssBytes ?? 0;
    const report: CapacityFigures = {
      wantedLinks: c.links,
      reachedLinks: opened.ready,
      fdLimit: serverFd,
      heartbeatSec: c.heartbeatSec,
      holdMs: c.holdMs,
      loginMs: Math.round(loginMs),
      serverOpenLinksAfterHold: after?.openLinks,
      linkDropsDuringHold: drops,
      server: {
        rssBefore: b,
        rssAfter: after?.rssBytes ?? 0,
        ...(before?.heapUsedBytes !== undefined ? { heapBefore: before.heapUsedBytes } : {}),
        ...(after?.heapUsedBytes !== undefined ? { heapAfter: after.heapUsedBytes } : {}),
      },
      bare: undefined,
      rssPerLinkBytes: perLink(b, after?.rssBytes, opened.ready),
      ...(before?.heapUsedBytes !== undefined && after?.heapUsedBytes !== undefined ? { heapPerLinkBytes: perLink(before.heapUsedBytes, after.heapUsedBytes, opened.ready) } : {}),
      memory,
      bareMemory: [],
      fdLimitHow: serverPlan.how,
      holders: { processes: nHolders, linksEach: Math.ceil(links / nHolders), fdLimit: fleet.fdLimit },
      loginFailures: opened.failed,
      loginErrors: opened.errors,
      heartbeats: { sent: held1.counters.heartbeatsSent - held0.counters.heartbeatsSent, replies: held1.counters.heartbeatReplies - held0.counters.heartbeatReplies },
      anon: {
        ...(anonBefore !== undefined ? { serverBefore: anonBefore } : {}),
        ...(anonAfter !== undefined ? { serverAfter: anonAfter } : {}),
        ...(anonBefore !== undefined && anonAfter !== undefined ? { perLinkBytes: perLink(anonBefore, anonAfter, opened.ready) } : {}),
      },
      target: { links: c.links, bytesPerLink: TARGET_BYTES_PER_LINK, met: false },
      stageSec: 0,
    };
    await fleet.close();
    run.children.delete(fleet);
    fleet = undefined;
    serverUp = false;
    await srv.close();
    if (run.o.profile.bare) await bareIdleSockets(run, opened.ready, report);
    const perLinkMem = report.anon.perLinkBytes ?? report.rssPerLinkBytes;
    report.target.met = report.reachedLinks >= c.links && perLinkMem <= TARGET_BYTES_PER_LINK;
    report.stageSec = Math.round((performance.now() - t0) / 1000);
    run.log(
      `  per link: server anonymous RSS ${kib(report.anon.perLinkBytes)} (RSS ${kib(report.rssPerLinkBytes)}), heap ${kib(report.heapPerLinkBytes)}; ` +
        `bare anonymous RSS ${kib(report.anon.perSocketBytes)} (RSS ${kib(report.bareRssPerSocketBytes)}), heap ${kib(report.bareHeapPerSocketBytes)}; ` +
        `server over bare ${kib(report.anon.perLinkOverBareBytes)} anonymous (${kib(report.rssPerLinkOverBareBytes)} RSS)`,
    );
    run.log(
      `  target ${c.links} links at ≤ ${TARGET_BYTES_PER_LINK / 1024} KiB each: ${report.target.met ? 'met' : 'NOT met'} ` +
        `(${report.reachedLinks} links held, ${kib(perLinkMem)} ${report.anon.perLinkBytes !== undefined ? 'anonymous RSS' : 'RSS'} each) in ${report.stageSec} s`,
    );
    return report;
  } finally {
    if (ticker) clearInterval(ticker);
    await sampling;
    if (fleet) {
      await fleet.close();
      run.children.delete(fleet);
    }
    if (serverUp) await srv.close();
  }
}

/**
 * A full GC, a rest, and the sample after a second GC: the garbage of what
 * came before (registration, logins) collected and its pages given back, so
 * that it counts neither for nor against the links.
 */
async function settledSample(sample: (gc: boolean) => Promise<ServerSample | undefined>): Promise<ServerSample | undefined> {
  await sample(true);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  return sample(true);
}

function anonOf(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : procAnonRssBytes(pid);
}

function perLink(before: number, after: number | undefined, n: number): number {
  return n > 0 && after !== undefined ? Math.round((after - before) / n) : 0;
}

/**
 * Sends across the held links: a small population of its own devices on the
 * first accounts of the held links (so each message also notifies the idle
 * devices of its recipient, which sync it), an open-model phase at the
 * profile's rate, with the run's loss and duplicate accounting.
 */
async function liveSends(run: RunContext, target: Parameters<typeof Population.create>[0], prefix: string, fleet: HolderFleet): Promise<void> {
  const c = run.o.profile.capacity!;
  const s0: FleetTotals = await fleet.stats();
  const pop = await Population.create(
    target,
    {
      // The same names as the holders' accounts: registration finds them taken, which is fine.
      prefix,
      tcp: LIVE_DEVICES,
      ws: 0,
      http: 0,
      devicesPerAccount: LIVE_DEVICES_PER_ACCOUNT,
      groups: 0,
      groupSize: 0,
      password: PASSWORD,
      loginTimeoutMs: LIVE_LOGIN_TIMEOUT_MS,
    },
    (l) => run.log(l),
  );
  try {
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
  } finally {
    pop.close();
  }
  const s1 = await fleet.stats();
  run.log(`  the held links meanwhile: ${s1.counters.notifies - s0.counters.notifies} notifies, ${s1.counters.syncs - s0.counters.syncs} syncs, ${s1.counters.drops - s0.counters.drops} drops, ${s1.ready} ready`);
}

/** The baseline: a bare TCP server's memory before and after as many idle sockets (from link holders too), into `report`. */
async function bareIdleSockets(run: RunContext, n: number, report: CapacityFigures): Promise<void> {
  run.log(`  bare TCP server holding ${n} idle sockets`);
  const bare = await ServerChild.start(['--mode', 'bare-tcp', '--host', HOST], n + BARE_FD_MARGIN);
  run.children.add(bare);
  let fleet: HolderFleet | undefined;
  try {
    const before = await settledSample((gc) => bare.sample(gc));
    const anonBefore = procAnonRssBytes(bare.pid);
    if (before) report.bareMemory.push({ t: run.sec(), rssBytes: before.rssBytes, openLinks: 0 });
    const plan = planFdLimit(MAX_LINKS_PER_HOLDER + HOLDER_FD_MARGIN);
    fleet = await HolderFleet.start(report.holders.processes, HOST, bare.ready.port, plan.want);
    run.children.add(fleet);
    const opened = await fleet.openRaw(n, (l) => run.log(l));
    if (opened.failed) run.log(`  ${opened.failed} bare connects failed: ${opened.errors.slice(0, 2).join('; ')}`);
    const after = await settledSample((gc) => bare.sample(gc));
    const anonAfter = procAnonRssBytes(bare.pid);
    if (anonBefore !== undefined && anonAfter !== undefined) {
      report.anon.bareBefore = anonBefore;
      report.anon.bareAfter = anonAfter;
      report.anon.perSocketBytes = perLink(anonBefore, anonAfter, opened.ready);
      if (report.anon.perLinkBytes !== undefined) report.anon.perLinkOverBareBytes = report.anon.perLinkBytes - report.anon.perSocketBytes;
    }
    if (after) report.bareMemory.push({ t: run.sec(), rssBytes: after.rssBytes, openLinks: opened.ready });
    report.bare = {
      sockets: opened.ready,
      rssBefore: before?.rssBytes ?? 0,
      rssAfter: after?.rssBytes ?? 0,
      ...(before?.heapUsedBytes !== undefined ? { heapBefore: before.heapUsedBytes } : {}),
      ...(after?.heapUsedBytes !== undefined ? { heapAfter: after.heapUsedBytes } : {}),
    };
    report.bareRssPerSocketBytes = perLink(before?.rssBytes ?? 0, after?.rssBytes, opened.ready);
    report.rssPerLinkOverBareBytes = report.rssPerLinkBytes - report.bareRssPerSocketBytes;
    if (before?.heapUsedBytes !== undefined && after?.heapUsedBytes !== undefined) {
      report.bareHeapPerSocketBytes = perLink(before.heapUsedBytes, after.heapUsedBytes, opened.ready);
    }
    run.log(`  bare: RSS ${mb(before?.rssBytes)} → ${mb(after?.rssBytes)} (anonymous ${mb(anonBefore)} → ${mb(anonAfter)}), heap ${mb(before?.heapUsedBytes)} → ${mb(after?.heapUsedBytes)}`);
  } finally {
    if (fleet) {
      await fleet.close();
      run.children.delete(fleet);
    }
    await bare.close();
    run.children.delete(bare);
  }
}
