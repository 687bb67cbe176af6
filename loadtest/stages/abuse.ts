// The abuse profile's stage: hostile users, one attack at a time
// (stages/abuse/attacks/), each against a fresh server process while an
// honest population sends and its probes time round trips
// (stages/abuse/honest-load.ts). Per attack: the server's memory before,
// at its peak and after; its CPU; the honest p99s and losses; what the
// server refused and accepted; whether it survived. Every attack is bounded
// in time (ABUSE_ATTACK_LIMIT_MS) and in count (the profile's figures); an
// attack that fails, or a server that dies, is reported, not thrown. The
// attacker runs in a process of its own (abuse/attack-process.ts): the
// honest clients' figures are the server's, not the attack generator's.
import { parseServerUrl } from '../../client/net/server-address.ts';
import { Op } from '../../server/wire/packet.ts';
import { ABUSE_ATTACK_LIMIT_MS, ATTACK_NAMES, type AbuseStage, type AttackName } from '../profiles.ts';
import type { RunContext } from '../run-context.ts';
import { sampler } from '../sampler.ts';
import { abuseMarkdown, attackChecks, type AbuseReport, type AttackResult, type HonestFigures } from './abuse/abuse-report.ts';
import { AttackEnv, attackerAddress } from './abuse/attack-kit.ts';
import { AttackProcess } from './abuse/attack-process.ts';
import { AttackLink } from './abuse/attack-link.ts';
import { startAttackServer, type AttackServer } from './abuse/attack-server.ts';
import { ATTACKS, REFERENCE } from './abuse/attacks/index.ts';
import type { Attack } from './abuse/attacks/attack.ts';
import { HonestLoad, type HonestResult } from './abuse/honest-load.ts';

export { abuseMarkdown, type AbuseReport };

const ATTACKER_PASSWORD = 'attacker-password';
/** Server memory sampling (from /proc) through an attack. */
const SAMPLE_EVERY_MS = 250;
/** How long the closing check waits for a heartbeat on a fresh link. */
const ALIVE_TIMEOUT_MS = 5000;

/** Whether the server still takes a link and answers a heartbeat on it. */
async function answers(env: AttackEnv): Promise<boolean> {
  try {
    const l = await AttackLink.connect(env, 'tcp');
    const p = await l.call(Op.Heartbeat, undefined, ALIVE_TIMEOUT_MS);
    l.destroy();
    return p?.op === Op.HeartbeatReply;
  } catch {
    return false;
  }
}

function honestFigures(h: HonestResult): HonestFigures {
  const p = h.phase;
  return {
    heartbeatMs: h.heartbeatMs,
    httpMs: h.httpMs,
    deliveryMs: p.deliveryLatencyMs,
    sent: p.sent,
    acked: p.acked,
    failed: p.failed,
    lost: p.lost,
    duplicated: p.duplicated,
    quiesced: p.quiesced,
    probeTimeouts: h.probeTimeouts,
    probeDrops: h.probeDrops,
    linkDrops: p.linkDrops + (p.linkReconnects ?? 0),
    httpFailures: p.httpFailures,
  };
}

async function runAttack(run: RunContext, stage: AbuseStage, attack: Attack, index: number): Promise<AttackResult> {
  const durationMs = Math.min(ABUSE_ATTACK_LIMIT_MS, attack === REFERENCE ? stage.referenceMs : stage.attackMs);
  const scryptN = attack.scryptN?.(stage) ?? run.o.profile.server.scryptN;
  const startSec = run.sec();
  run.log(`abuse ${attack.name}: ${attack.what(stage)}`);
  // Names unique per run and attack (a server given with --server keeps every attack's accounts).
  const prefix = `x${run.tag}${index.toString(36)}`;
  const base: Omit<AttackResult, 'checks'> = {
    name: attack.name,
    title: attack.title,
    what: attack.what(stage),
    startSec,
    attackMs: 0,
    scryptN,
    figures: {},
    refused: {},
    accepted: {},
    notes: [],
    memory: {},
    serverAlive: false,
    serverProcess: 'not started',
  };
  let srv: AttackServer | undefined;
  let honest: HonestLoad | undefined;
  let attacker: AttackProcess | undefined;
  const finish = (r: Omit<AttackResult, 'checks'>): AttackResult => {
    const done = { ...r, checks: attackChecks(r, stage.thresholds) };
    const failed = done.checks.filter((c) => !c.ok);
    run.log(`  ${attack.name}: ${failed.length === 0 ? 'pass' : `FAIL (${failed.map((c) => `${c.what.slice(attack.name.length + 2)}: ${c.detail}`).join('; ')})`}`);
    return done;
  };
  try {
    srv = await startAttackServer(run, attack.name, scryptN);
    honest = await HonestLoad.start(srv.target, `h${prefix}`, stage.honest, (l) => run.log(l));
    // The attacker in a process of its own (attack-process.ts), from its own loopback address.
    attacker = await AttackProcess.start(
      {
        attack: attack === REFERENCE ? 'reference' : (attack.name as AttackName),
        stage,
        target: { server: srv.target.server, tcp: srv.target.tcp },
        prefix,
        password: ATTACKER_PASSWORD,
        source: attackerAddress(parseServerUrl(srv.target.server).host),
      },
      (l) => run.log(l),
    );
    const before = await srv.sample(true);
    const t0 = performance.now();
    const samples = sampler(srv.target, t0, SAMPLE_EVERY_MS);
    let attackEnd = t0;
    const attacking = attacker.run(durationMs).then((r) => {
      attackEnd = performance.now();
      return r;
    });
    const [outcome, h] = await Promise.all([attacking, honest.during(`honest during ${attack.name}`, durationMs)]);
    const points = await samples.stop();
    const cpu = samples.cpu();
    const running = srv.alive();
    // From the honest clients' address: a server that bounds the attacker's address is not a dead one.
    const alive = running && (await answers(new AttackEnv(srv.target, prefix, ATTACKER_PASSWORD, () => {})));
    const after = alive ? await srv.sample(true) : undefined;
    run.record(h.phase, 'mixed', 'mixed', startSec, { population: honest.info });
    const peak = points.length > 0 ? Math.max(...points.map((p) => p.rssBytes)) : undefined;
    return finish({
      ...base,
      attackMs: Math.round(attackEnd - t0),
      ...outcome.tally,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      memory: {
        ...(before ? { rssBeforeBytes: before.rssBytes } : {}),
        ...(peak !== undefined ? { rssPeakBytes: peak } : {}),
        ...(after ? { rssAfterBytes: after.rssBytes } : {}),
        ...(before?.heapUsedBytes !== undefined ? { heapBeforeBytes: before.heapUsedBytes } : {}),
        ...(after?.heapUsedBytes !== undefined ? { heapAfterBytes: after.heapUsedBytes } : {}),
        ...(before && peak !== undefined ? { rssGrowthBytes: Math.max(0, peak - before.rssBytes) } : {}),
      },
      ...(cpu !== undefined ? { serverCpuPct: cpu } : {}),
      honest: honestFigures(h),
      serverAlive: alive,
      serverProcess: running ? 'running' : 'gone',
    });
  } catch (err) {
    return finish({
      ...base,
      serverAlive: false,
      serverProcess: srv ? (srv.alive() ? 'running' : 'gone') : 'not started',
      error: (err as Error).message,
    });
  } finally {
    honest?.close();
    await attacker?.close().catch(() => {});
    await srv?.close().catch(() => {});
  }
}

/** Every attack of the profile in turn (the reference run first), each on a server of its own. */
export async function abuseStage(run: RunContext): Promise<AbuseReport> {
  const stage = run.o.profile.abuse!;
  const list: Attack[] = [...(stage.referenceMs > 0 ? [REFERENCE] : []), ...ATTACK_NAMES.filter((n) => !stage.only || stage.only.includes(n)).map((n) => ATTACKS[n])];
  const attacks: AttackResult[] = [];
  for (const [i, a] of list.entries()) attacks.push(await runAttack(run, stage, a, i));
  return { thresholds: stage.thresholds, attacks };
}
