// A crash and restart between two syncs: nothing acknowledged is lost, no
// key goes back, and sequences continue above the old values (guarantees 1
// and 2 through restarts).
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK, expectKeyNotBehind, keyVal } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('restart (%s)', (store) => {
  const harness = useHarness();

  it('every answered send survives a crash and reaches the recipient after it', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const ids = [h.sendOk(a, 'bob', 'one'), h.sendOk(a, 'bob', 'two')];
    const first = h.sync(b);
    expect(first.AddMsgList.map((m: any) => m.MsgId)).toEqual(ids);
    h.restart();
    ids.push(h.sendOk(a, 'bob', 'three'));
    // The key from before the crash still works, and syncs on from where it was.
    const second = h.sync(b);
    expect(second.BaseResponse).toEqual(OK);
    expect(second.AddMsgList.map((m: any) => m.Content)).toEqual(['three']);
    expectKeyNotBehind(second.SyncKey, first.SyncKey);
  });

  it('sequence values after a restart are above every value handed out before it', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const before = [h.sendOk(a, 'bob', 'x'), h.sendOk(a, 'bob', 'y')];
    const k1 = h.drain(b).messages && b.key;
    const oldSeq = keyVal(k1, 1);
    h.restart();
    const after = h.sendOk(a, 'bob', 'z');
    expect(after).toBeGreaterThan(Math.max(...before));
    const r = h.sync(b);
    expect(keyVal(r.SyncKey, 1)).toBeGreaterThan(oldSeq);
    expect(h.items(b.uin, 1).map((i) => i.seq)).toEqual([...h.items(b.uin, 1).map((i) => i.seq)].sort((x, y) => x - y));
  });

  it('the acknowledged position survives; webwxinit and login after a restart give a key not behind it', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    h.sendOk(a, 'bob', 'one');
    h.oplog(b, 'alice', 'Al');
    h.drain(b);
    const acked = b.key;
    h.sync(b); // presents the key: acknowledged
    h.restart();
    const init = h.init(b);
    expect(init.BaseResponse).toEqual(OK);
    expect(init.SyncKey).toEqual(acked);
    const again = h.login('bob', b.deviceId);
    expect(again.key).toEqual(acked);
    // Nothing acknowledged comes again.
    expect(h.sync(again).AddMsgList).toEqual([]);
  });

  it('a device that fetched but never acknowledged before the crash gets the items again (none lost)', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const id = h.sendOk(a, 'bob', 'unacked');
    const fetched = h.sync(b);
    expect(fetched.AddMsgList).toHaveLength(1);
    h.restart();
    // The client lost its state too: webwxinit gives the acknowledged key.
    h.init(b);
    expect(h.drain(b).messages.map((m) => m.MsgId)).toEqual([id]);
  });

  it('sessions survive a restart: the old Sid and Skey keep working', () => {
    const h = harness({ store });
    const a = h.user('alice');
    h.restart();
    expect(h.init(a).BaseResponse).toEqual(OK);
    expect(h.sync(a).BaseResponse).toEqual(OK);
  });

  it('MsgIDs, group ids and user numbers continue after several restarts', () => {
    const h = harness({ store });
    const a = h.user('alice');
    h.user('bob');
    const msgIds: number[] = [];
    const uins: number[] = [a.uin];
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) {
      msgIds.push(h.sendOk(a, 'bob', `m${i}`));
      uins.push(h.register(`u${i}`));
      rooms.push(h.createRoom(a, ['bob'], `r${i}`).ChatRoomName);
      h.restart();
    }
    expect(new Set(msgIds).size).toBe(3);
    expect(msgIds).toEqual([...msgIds].sort((x, y) => x - y));
    expect(uins).toEqual([...uins].sort((x, y) => x - y));
    expect(new Set(rooms).size).toBe(3);
  });

  it('a long link is gone after a crash; the device resumes with its Sid on the new node', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const link = h.link(a);
    h.restart();
    expect(link.closed && link.lost).toBe(true);
    const again = h.link(a);
    const r = again.sync(a.key, 2);
    expect(r.BaseResponse).toEqual(OK);
  });
});
