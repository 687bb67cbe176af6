// The mixed stage: one population of every transport whose shape (devices
// per account, transport mix, groups, group share, content sizes, rate)
// comes from a scenario of scenarios/, and one open phase over it.
import { runPhase } from '../phase-runner.ts';
import { Population } from '../population.ts';
import { mixedShape } from '../profiles.ts';
import type { RunContext } from '../run-context.ts';
import type { SyncKeyServer } from '../server-under-test.ts';

export async function mixedStage(run: RunContext, srv: SyncKeyServer): Promise<void> {
  const m = run.o.profile.mixed!;
  const shape = mixedShape(m);
  run.log(
    `mixed (${shape.scenario}): ${shape.accounts} accounts × ${shape.devicesPerAccount} devices (${shape.tcp} TCP, ${shape.ws} WS, ${shape.http} HTTP), ` +
      `${shape.groups} groups, ${shape.rate} sends/s`,
  );
  const pop = await Population.create(
    srv.target,
    {
      prefix: `m${run.tag}x`,
      tcp: shape.tcp,
      ws: shape.ws,
      http: shape.http,
      devicesPerAccount: shape.devicesPerAccount,
      groups: shape.groups,
      groupSize: shape.groupSize,
    },
    (l) => run.log(l),
  );
  try {
    const at = run.sec();
    const r = await runPhase(pop, {
      name: `mixed ${shape.scenario}`,
      mode: 'open',
      rate: shape.rate,
      durationMs: m.durationMs,
      maxMessages: m.maxMessages,
      groupSendFraction: shape.groupSendFraction,
      contentBytes: shape.contentBytes,
      quiesceTimeoutMs: run.o.profile.quiesceTimeoutMs,
    });
    run.record(r, 'mixed', 'mixed', at, { population: pop.info });
  } finally {
    pop.close();
  }
}
