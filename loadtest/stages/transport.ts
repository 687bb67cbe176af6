// Per transport (TCP, WebSocket, HTTP), a population of one transport's
// devices and two phases: the peak (every device keeps a window of unanswered
// sends) and Poisson arrivals at half that rate, for latency.
import { runPhase } from '../phase-runner.ts';
import { Population } from '../population.ts';
import type { RunContext } from '../run-context.ts';
import type { SyncKeyServer } from '../server-under-test.ts';

export async function transportStages(run: RunContext, srv: SyncKeyServer): Promise<void> {
  const s = run.o.profile.transports!;
  for (const t of ['tcp', 'ws', 'http'] as const) {
    run.log(`${t.toUpperCase()}: ${s.clients} devices, ${s.devicesPerAccount} per account, ${s.groups} groups`);
    const pop = await Population.create(
      srv.target,
      {
        prefix: `${t}${run.tag}x`,
        tcp: t === 'tcp' ? s.clients : 0,
        ws: t === 'ws' ? s.clients : 0,
        http: t === 'http' ? s.clients : 0,
        devicesPerAccount: s.devicesPerAccount,
        groups: s.groups,
        groupSize: s.groupSize,
      },
      (l) => run.log(l),
    );
    try {
      const base = { groupSendFraction: s.groupSendFraction, contentBytes: s.contentBytes, maxMessages: s.maxMessages, quiesceTimeoutMs: run.o.profile.quiesceTimeoutMs };
      let at = run.sec();
      const peak = await runPhase(pop, { ...base, name: `${t} peak`, mode: 'saturate', window: s.window, durationMs: s.saturateMs });
      run.record(peak, t, 'peak', at, { population: pop.info });
      const rate = Math.max(1, Math.round(peak.durablePerSec / 2));
      run.halfRates.set(t, rate);
      at = run.sec();
      const half = await runPhase(pop, { ...base, name: `${t} half-peak`, mode: 'open', rate, durationMs: s.halfRateMs });
      run.record(half, t, 'half-peak', at, { population: pop.info });
    } finally {
      pop.close();
    }
  }
}
