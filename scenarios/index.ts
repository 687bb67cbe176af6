// The named scenarios, in the order the default sweep runs them.
import { calm } from './calm.ts';
import { flakyWifi } from './flaky-wifi.ts';
import { groupBurst } from './group-burst.ts';
import { hostileUsers } from './hostile-users.ts';
import { longLived } from './long-lived.ts';
import { longOffline } from './long-offline.ts';
import { multiDeviceStorm } from './multi-device-storm.ts';
import { multiNode } from './multi-node.ts';
import { partitionHeal } from './partition-heal.ts';
import { powerLoss } from './power-loss.ts';
import type { Scenario } from './scenario.ts';
import { serverCrashLoop } from './server-crash-loop.ts';
import { storageFaults } from './storage-faults.ts';

export const SCENARIOS: readonly Scenario[] = [calm, flakyWifi, partitionHeal, serverCrashLoop, multiDeviceStorm, groupBurst, longOffline, hostileUsers, storageFaults, powerLoss, longLived, multiNode];

export function scenarioByName(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new RangeError(`unknown scenario '${name}'; known: ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}
