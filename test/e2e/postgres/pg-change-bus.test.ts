// The cross-node notice bus on a real PostgreSQL (server/transport/pg-change-bus.ts):
// a node hears the others' notices and not its own, schemas do not hear each
// other, and a listener whose connection is cut comes back by itself and
// tells its node `everyone` (every waiter checks again: what was sent while
// it was away is covered). Without PostgreSQL the file fails with one line.
import { afterAll, describe, expect, it } from 'vitest';
import type { RemoteChanges } from '../../../server/node/change-bus.ts';
import { PgChangeBus, channelOf } from '../../../server/transport/pg-change-bus.ts';
import { testPg } from '../../store/pg-test-db.ts';
import { until } from '../raw-client/wait.ts';

const db = await testPg();

async function bus(schema: string, origin: string, heard: RemoteChanges[]): Promise<PgChangeBus> {
  return PgChangeBus.open({ url: db.url, schema, origin, onChanges: (c) => heard.push(c), reconnectMinMs: 20, reconnectMaxMs: 100 });
}

describe('PgChangeBus', () => {
  const open: PgChangeBus[] = [];
  afterAll(async () => {
    for (const b of open) await b.close();
    await db.end();
  });

  it("delivers a node's notice to the other nodes of its schema, not to itself nor to another schema", async () => {
    const schema = await db.newSchema();
    const heardA: RemoteChanges[] = [];
    const heardB: RemoteChanges[] = [];
    const heardOther: RemoteChanges[] = [];
    const a = await bus(schema, 'node-a', heardA);
    const b = await bus(schema, 'node-b', heardB);
    const other = await bus(await db.newSchema(), 'node-c', heardOther);
    open.push(a, b, other);
    a.publish([{ uin: 7, seq: 41, selector: 2 }, { uin: 9, seq: 3, selector: 4 }]);
    await until(() => heardB.length === 1, 5000, "node B's notice");
    expect(heardB).toEqual([[{ uin: 7, seq: 41, selector: 2 }, { uin: 9, seq: 3, selector: 4 }]]);
    // Sent after A's: once B hears it, A's own notice has come back to A if it ever would.
    b.publish([{ uin: 1, seq: 1, selector: 2 }]);
    await until(() => heardA.length === 1, 5000, "node A's notice");
    expect(heardA).toEqual([[{ uin: 1, seq: 1, selector: 2 }]]);
    expect(heardOther).toEqual([]);
    expect(a.stats).toMatchObject({ sent: 1, dropped: 0, received: 1 });
  });

  it('comes back after its connection is cut, and tells its node to wake everyone', async () => {
    const schema = await db.newSchema();
    const heard: RemoteChanges[] = [];
    const a = await bus(schema, 'node-a', []);
    const b = await bus(schema, 'node-b', heard);
    open.push(a, b);
    const pid = b.listenerPid;
    expect(pid).toBeGreaterThan(0);
    await db.terminate(pid!);
    await until(() => heard.includes('everyone'), 5000, 'the listener back');
    expect(b.stats.reconnects).toBe(1);
    expect(b.listenerPid).not.toBe(pid);
    a.publish([{ uin: 5, seq: 2, selector: 2 }]);
    await until(() => heard.length === 2, 5000, 'a notice after the reconnect');
    expect(heard).toEqual(['everyone', [{ uin: 5, seq: 2, selector: 2 }]]);
  });

  it('names a channel for any schema within 63 bytes, the same on every node', () => {
    expect(channelOf('public')).toBe('synckey_changes_public');
    const long = channelOf('Schema With "Quotes" and a very long name that goes on and on');
    expect(long).toMatch(/^synckey_changes_[0-9a-f]{32}$/);
    expect(channelOf('Schema With "Quotes" and a very long name that goes on and on')).toBe(long);
  });
});
