// The answer metrics of /metrics (docs/protocol.md section 5.12) as read at
// scrape time from the node's counts: the same names and label values the
// per-answer counting had, each scrape showing the counts as they are then.
import { describe, expect, it } from 'vitest';
import { Ret } from '../../server/core/ret.ts';
import { AnswerCounts } from '../../server/node/answer-counts.ts';
import type { ScrapedStats } from '../../server/observability/scraped-stats.ts';
import { ServerMetrics } from '../../server/observability/server-metrics.ts';
import type { StallFigures } from '../../server/observability/stall-monitor.ts';

const NO_DELAY = { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
const NO_STALLS: StallFigures = { eventLoop: NO_DELAY, commit: { ...NO_DELAY, commands: 0 } };

function metricsOf(counts: AnswerCounts): ServerMetrics {
  const stats = (): ScrapedStats => ({
    node: { polls: 0, commands: 0, commits: 0, failures: 0, writes: 0, pausedLinks: 0, linkBufferedBytes: 0, linkFaults: 0, answers: counts.tally() },
    http: { requests: 0, aborted: 0, internalErrors: 0, bufferedBytes: 0, peakBufferedBytes: 0, bodiesCut: 0, openConnections: 0 },
    tcp: { socketErrors: 0, paused: 0 },
    ws: { socketErrors: 0, paused: 0, bufferedBytes: 0 },
    connections: { open: 0, shed: 0 },
    flushes: 0,
  });
  return new ServerMetrics({ stats, links: () => ({ preAuth: 0, authenticated: 0 }), stalls: () => NO_STALLS });
}

/** The samples of the answer metrics, `name{labels}` to value. */
async function answerSamples(m: ServerMetrics): Promise<Map<string, number>> {
  const { text } = await m.scrape();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!/^synckey_(commands_total|command_errors_total|throttled_total|link_disconnects_total|notifications_total)\{/.test(line)) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('answer metrics read at scrape time', () => {
  it('show the node counts under the names and labels of section 5.12', async () => {
    const c = new AnswerCounts();
    c.answered('http', 'webwxsendmsg', Ret.Ok, 0, undefined);
    c.answered('http', 'webwxsendmsg', Ret.RateLimited, 0, undefined);
    c.answered('http', 'webwxsendmsg', Ret.RateLimited, 0, undefined);
    c.answered('http', 'synccheck', Ret.Busy, 0, undefined);
    c.answered('http', 'webwxsync', 4242, 0, undefined);
    c.answered('tcp', 'heartbeat', undefined, 0, undefined);
    c.answered('ws', 'auth', Ret.AuthFailed, 0, undefined);
    c.disconnected(1, 'ws', Ret.AuthFailed, undefined, 0);
    c.disconnected(2, 'tcp', Ret.Busy, 'CONN_ADDRESS_LIMIT', 0);
    c.disconnected(3, 'tcp', Ret.BadRequest, 'WIRE_BAD_VERSION', 0);
    c.notification('tcp');
    c.notification('tcp');
    const samples = await answerSamples(metricsOf(c));
    expect(Object.fromEntries(samples)).toEqual({
      'synckey_commands_total{transport="http",command="webwxsendmsg"}': 3,
      'synckey_commands_total{transport="http",command="synccheck"}': 1,
      'synckey_commands_total{transport="http",command="webwxsync"}': 1,
      'synckey_commands_total{transport="tcp",command="heartbeat"}': 1,
      'synckey_commands_total{transport="ws",command="auth"}': 1,
      'synckey_command_errors_total{transport="http",command="webwxsendmsg",ret="1111"}': 2,
      'synckey_command_errors_total{transport="http",command="synccheck",ret="2"}': 1,
      'synckey_command_errors_total{transport="http",command="webwxsync",ret="other"}': 1,
      'synckey_command_errors_total{transport="ws",command="auth",ret="1103"}': 1,
      'synckey_throttled_total{transport="http",reason="rate_limited"}': 2,
      'synckey_throttled_total{transport="http",reason="busy"}': 1,
      'synckey_link_disconnects_total{transport="tcp",reason="CONN_ADDRESS_LIMIT"}': 1,
      'synckey_link_disconnects_total{transport="tcp",reason="WIRE_BAD_VERSION"}': 1,
      'synckey_link_disconnects_total{transport="ws",reason="ret_1103"}': 1,
      'synckey_notifications_total{transport="tcp"}': 2,
    });
  });

  it('show each scrape the counts as they are then, not a sum of scrapes', async () => {
    const c = new AnswerCounts();
    const m = metricsOf(c);
    c.answered('tcp', 'send', Ret.Ok, 0, undefined);
    expect((await answerSamples(m)).get('synckey_commands_total{transport="tcp",command="send"}')).toBe(1);
    expect((await answerSamples(m)).get('synckey_commands_total{transport="tcp",command="send"}')).toBe(1);
    c.answered('tcp', 'send', Ret.MailboxFull, 0, undefined);
    const s = await answerSamples(m);
    expect(s.get('synckey_commands_total{transport="tcp",command="send"}')).toBe(2);
    expect(s.get('synckey_throttled_total{transport="tcp",reason="mailbox_full"}')).toBe(1);
  });
});
