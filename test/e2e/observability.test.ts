// Operable under attack (issue 11): GET /metrics in Prometheus text, counters
// that move with sends, refusals and throttles, structured log lines for
// refused connections and throttled accounts, and no secret (password, Sid,
// Skey) in the log at its most verbose nor in the metrics.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/observability/log.ts';
import { isLoopback } from '../../server/observability/metrics-endpoint.ts';
import { startTestServer, tempDb, type TestServer } from './fixture.ts';
import { register } from './raw-client/http.ts';
import { HttpDevice } from './raw-client/http-device.ts';
import { OP, frameJson } from './raw-client/packets.ts';
import { TcpLink } from './raw-client/tcp-link.ts';
import { until } from './raw-client/wait.ts';

const PASSWORD = 'correct-horse-7Qz';
const PER_ADDRESS = 12;
/** Sends an account may make at once before Ret 1111. */
const SEND_BURST = 2;

/**
 * One sample line: `name{labels} value` (timestamps are not used here). A
 * value is a Go float, so NaN may be spelled in any case (prom-client writes Nan).
 */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]Inf)$/;

/** Checks every line is a comment, blank or a sample, and returns the samples. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = SAMPLE.exec(line);
    expect(m, `not Prometheus text: ${line}`).not.toBeNull();
    samples.set(m![1]! + (m![2] ?? ''), Number(m![3]));
  }
  return samples;
}

async function scrape(base: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${base}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function metrics(base: string): Promise<{ text: string; samples: Map<string, number> }> {
  const r = await scrape(base);
  expect(r.status, r.text).toBe(200);
  expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text: r.text, samples: parsePrometheus(r.text) };
}

function value(samples: Map<string, number>, key: string): number {
  return samples.get(key) ?? 0;
}

describe('observability', () => {
  const tmp = tempDb('e2e-observability');
  const logged: string[] = [];
  let t: TestServer;
  const secrets: string[] = [PASSWORD];

  const lines = (): Array<Record<string, unknown>> => logged.map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    t = await startTestServer(tmp.db, {
      logger: createLogger('trace', { write: (s: string) => void logged.push(s) }),
      limits: { maxConnectionsPerAddress: PER_ADDRESS },
      core: { sendMessagesPerSec: 1, sendMessageBurst: SEND_BURST },
    });
    await register(t.base, 'olivia', PASSWORD);
    await register(t.base, 'oscar', PASSWORD);
  });
  afterAll(async () => {
    await t.srv.close();
    tmp.cleanup();
  });

  it('serves Prometheus text whose counters move after a send', async () => {
    const dev = new HttpDevice(t.base, 'olivia', PASSWORD, 'e000000000000101');
    const login = await dev.login();
    secrets.push(login.Sid, login.Skey);
    const before = (await metrics(t.base)).samples;
    expect((await dev.send('olivia', 'hello metrics', 'obs-1')).BaseResponse.Ret).toBe(0);
    const after = await metrics(t.base);
    const s = after.samples;
    const sends = 'synckey_commands_total{transport="http",command="webwxsendmsg"}';
    expect(value(s, sends)).toBe(value(before, sends) + 1);
    expect(value(s, 'synckey_commits_total')).toBeGreaterThan(value(before, 'synckey_commits_total'));
    expect(value(s, 'synckey_commit_batch_commands_count')).toBeGreaterThan(value(before, 'synckey_commit_batch_commands_count'));
    expect(value(s, 'synckey_flush_duration_seconds_count')).toBeGreaterThan(0);
    expect(value(s, 'synckey_http_responses_total{status="200"}')).toBeGreaterThan(0);
    expect(s.has('synckey_connections{transport="http",state="open"}')).toBe(true);
    expect(s.has('synckey_connections{transport="tcp",state="authenticated"}')).toBe(true);
    expect(s.has('synckey_buffered_bytes{buffer="http_body"}')).toBe(true);
    // The process's own: memory and the event-loop delay (monitorEventLoopDelay).
    expect(value(s, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(s.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(after.text).toMatch(/^# TYPE synckey_commit_duration_seconds histogram$/m);
    // The server's own stall monitor: commit latency as the store reported it, every turn of its loop's timer.
    expect(value(s, 'synckey_commit_duration_seconds_count')).toBeGreaterThan(value(before, 'synckey_commit_duration_seconds_count'));
    expect(value(s, 'synckey_event_loop_delay_seconds_count')).toBeGreaterThan(0);
    expect(after.text).toMatch(/^# TYPE synckey_event_loop_delay_seconds histogram$/m);
    // Since the previous scrape: the send's commit happened in between.
    expect(value(s, 'synckey_commit_duration_since_scrape_seconds{stat="max"}')).toBeGreaterThan(0);
    for (const stat of ['p50', 'p99', 'max']) {
      expect(s.has(`synckey_event_loop_delay_since_scrape_seconds{stat="${stat}"}`), stat).toBe(true);
      expect(value(s, `synckey_commit_duration_since_scrape_seconds{stat="${stat}"}`)).toBeLessThanOrEqual(value(s, 'synckey_commit_duration_since_scrape_seconds{stat="max"}'));
    }
  });

  it('shows a scrape the stalls since the previous one only', async () => {
    await metrics(t.base);
    // Nothing was committed between the two scrapes.
    const s = (await metrics(t.base)).samples;
    expect(value(s, 'synckey_commit_duration_since_scrape_seconds{stat="max"}')).toBe(0);
    expect(value(s, 'synckey_commit_duration_seconds_count')).toBeGreaterThan(0);
  });

  it('counts long-link commands by transport and state', async () => {
    const link = await TcpLink.connect(t.tcpPort);
    try {
      const auth = await link.auth({ UserName: 'olivia', Password: PASSWORD, DeviceID: 'e000000000000102' });
      expect(auth.BaseResponse.Ret).toBe(0);
      secrets.push(auth.Sid, auth.Skey);
      await link.heartbeat();
      const s = (await metrics(t.base)).samples;
      expect(value(s, 'synckey_connections{transport="tcp",state="authenticated"}')).toBe(1);
      expect(value(s, 'synckey_commands_total{transport="tcp",command="auth"}')).toBe(1);
      expect(value(s, 'synckey_commands_total{transport="tcp",command="heartbeat"}')).toBe(1);
    } finally {
      link.destroy();
    }
  });

  it('counts and logs a refused connection by reason, with the address only as a tag', async () => {
    const reason = 'synckey_refused_total{transport="tcp",reason="CONN_ADDRESS_LIMIT"}';
    const before = value((await metrics(t.base)).samples, reason);
    const held: TcpLink[] = [];
    try {
      const room = PER_ADDRESS - t.srv.stats().connections.open;
      for (let i = 0; i < room; i++) held.push(await TcpLink.connect(t.tcpPort));
      await until(() => t.srv.stats().connections.open === PER_ADDRESS, 2000, 'the address to be full');
      const over = await TcpLink.connect(t.tcpPort);
      held.push(over);
      const f = await over.waitOp(OP.Disconnect, 3000);
      expect(frameJson<{ ErrMsg: string }>(f).ErrMsg).toMatch(/^CONN_ADDRESS_LIMIT: /);
    } finally {
      for (const l of held) l.destroy();
    }
    await until(() => t.srv.stats().connections.open < PER_ADDRESS - 2, 2000, 'room for the scrape');
    const s = (await metrics(t.base)).samples;
    expect(value(s, reason)).toBe(before + 1);
    expect(value(s, 'synckey_link_disconnects_total{transport="tcp",reason="CONN_ADDRESS_LIMIT"}')).toBeGreaterThanOrEqual(1);
    const refusal = lines().find((l) => l['event'] === 'refused' && l['reason'] === 'CONN_ADDRESS_LIMIT');
    expect(refusal).toMatchObject({ transport: 'tcp', level: 40 });
    expect(refusal!['peer']).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(refusal)).not.toContain('127.0.0.1');
  });

  it('counts throttled sends and logs each throttled account once, by uin', async () => {
    const dev = new HttpDevice(t.base, 'oscar', PASSWORD, 'e000000000000103');
    const login = await dev.login();
    secrets.push(login.Sid, login.Skey);
    const rets: number[] = [];
    for (let i = 0; i <= SEND_BURST + 1; i++) rets.push((await dev.send('oscar', `flood ${i}`, `obs-flood-${i}`)).BaseResponse.Ret);
    expect(rets).toContain(1111);
    const s = (await metrics(t.base)).samples;
    expect(value(s, 'synckey_throttled_total{transport="http",reason="rate_limited"}')).toBeGreaterThanOrEqual(1);
    expect(value(s, 'synckey_command_errors_total{transport="http",command="webwxsendmsg",ret="1111"}')).toBeGreaterThanOrEqual(1);
    const throttled = lines().filter((l) => l['event'] === 'throttled' && l['uin'] === login.Uin);
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toMatchObject({ reason: 'rate_limited', command: 'webwxsendmsg', transport: 'http' });
  });

  it('logs a throttled long-link account by the uin its auth reply gave', async () => {
    const uin = await register(t.base, 'otto', PASSWORD);
    const link = await TcpLink.connect(t.tcpPort);
    try {
      const auth = await link.auth({ UserName: 'otto', Password: PASSWORD, DeviceID: 'e000000000000104' });
      secrets.push(auth.Sid, auth.Skey);
      const rets: number[] = [];
      for (let i = 0; i <= SEND_BURST + 1; i++) rets.push((await link.send('otto', `flood ${i}`, `obs-link-${i}`)).BaseResponse.Ret);
      expect(rets).toContain(1111);
    } finally {
      link.destroy();
    }
    const s = (await metrics(t.base)).samples;
    expect(value(s, 'synckey_throttled_total{transport="tcp",reason="rate_limited"}')).toBeGreaterThanOrEqual(1);
    expect(lines().filter((l) => l['event'] === 'throttled' && l['uin'] === uin)).toMatchObject([{ transport: 'tcp', command: 'send' }]);
  });

  it('never logs a password, Sid or Skey (at trace level) and never shows one in /metrics', async () => {
    const { text } = await metrics(t.base);
    const log = logged.join('');
    // Trace was on: every command answered has its line.
    expect(lines().some((l) => l['event'] === 'command')).toBe(true);
    expect(secrets.length).toBeGreaterThanOrEqual(9);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(4);
      expect(log).not.toContain(secret);
      expect(text).not.toContain(secret);
    }
    // No user name either: labels hold fixed sets only.
    expect(text).not.toContain('olivia');
    expect(log).not.toContain('olivia');
  });
});

describe('who may read /metrics', () => {
  const tmp = tempDb('e2e-observability-token');
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(tmp.db, { metricsToken: 'scrape-token-42' });
  });
  afterAll(async () => {
    await t.srv.close();
    tmp.cleanup();
  });

  it('with a metrics token, answers only a scraper that sends it', async () => {
    expect((await scrape(t.base)).status).toBe(401);
    expect((await scrape(t.base, { authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await scrape(t.base, { authorization: 'Bearer scrape-token-42' });
    expect(ok.status).toBe(200);
    parsePrometheus(ok.text);
    expect((await fetch(`${t.base}/metrics`, { method: 'POST', body: '{}' })).status).toBe(405);
  });

  it('without one, answers loopback peers only', () => {
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.1.2.3']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.127', '::2', undefined]) expect(isLoopback(a), String(a)).toBe(false);
  });
});

describe('npm start --log-level', () => {
  it('refuses an unknown level with exit 2', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server/main.ts'), '--log-level', 'loud'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--log-level must be one of');
  });
});
