// The checks above must catch real bugs: each planted core bug (a test seam
// of the core, off by default) is switched on and a small scenario written
// to the contract must fail, while the same scenario passes without it.
import { describe, expect, it } from 'vitest';
import type { PlantedBug } from '../../server/core/planted-bugs.ts';
import { Harness } from '../harness/core-harness.ts';
import { OK, keyVal } from '../harness/dev.ts';
import type { HarnessOptions } from '../harness/node-driver.ts';

type Scenario = { options?: HarnessOptions; run: (h: Harness) => void };

const SCENARIOS: Record<Exclude<PlantedBug, 'client-no-dedup'>, Scenario> = {
  'skip-dedup': {
    run(h) {
      const a = h.user('alice');
      const b = h.user('bob');
      const m1 = h.sendOk(a, 'bob', 'x', '1');
      expect(h.sendOk(a, 'bob', 'x', '1')).toBe(m1);
      expect(h.drain(b).messages).toHaveLength(1);
    },
  },
  'ack-on-fetch': {
    run(h) {
      const a = h.user('alice');
      const b = h.user('bob');
      h.sendOk(a, 'bob', 'x');
      h.sync(b);
      expect(h.deviceRecord(b)!.acked).toEqual({ 1: 0, 2: 0 });
    },
  },
  'volatile-seq': {
    run(h) {
      const a = h.user('alice');
      const b = h.user('bob');
      h.sendOk(a, 'bob', 'one');
      const k = (h.drain(b), b.key);
      h.restart();
      h.sendOk(a, 'bob', 'two');
      const r = h.sync(b);
      expect(r.BaseResponse).toEqual(OK);
      expect(keyVal(r.SyncKey, 1)).toBeGreaterThan(keyVal(k, 1));
      expect(r.AddMsgList.map((m: any) => m.Content)).toEqual(['two']);
    },
  },
  'answer-before-commit': {
    run(h) {
      const a = h.user('alice');
      h.user('bob');
      const req = h.batch(() => h.sendReq(a, 'bob', 'x'));
      expect(h.answer(req)).toBeUndefined();
      h.restart();
      expect(h.answer(req)).toBeUndefined();
    },
  },
  'group-order-per-member': {
    run(h) {
      const devs = ['ann', 'ben', 'cat'].map((n) => h.user(n));
      const room = h.createRoom(devs[0]!, ['ben', 'cat']).ChatRoomName;
      h.batch(() => {
        for (let i = 0; i < 3; i++) for (const d of devs) h.sendReq(d, room, `${d.userName}${i}`);
      });
      h.flush();
      const views = devs.map((d) => h.drain(d).messages.map((m) => m.MsgId));
      expect(views[0]).toHaveLength(9);
      for (const v of views) expect(v).toEqual(views[0]);
    },
  },
  'prune-unacked': {
    options: { core: { minRetentionMs: 1_000, maxRetentionMs: 1e9, pruneIntervalMs: 1 } },
    run(h) {
      h.register('alice');
      const phone = h.login('alice');
      const web = h.login('alice');
      const bob = h.user('bob');
      h.sendOk(bob, 'alice', 'x');
      h.drain(phone);
      h.sync(phone);
      h.advance(5_000);
      h.sync(phone);
      expect(h.drain(web).messages.map((m) => m.Content)).toEqual(['x']);
    },
  },
  'continue-off-by-one': {
    options: { core: { syncLimit: 2 } },
    run(h) {
      const a = h.user('alice');
      const b = h.user('bob');
      for (let i = 0; i < 5; i++) h.sendOk(a, 'bob', `m${i}`);
      expect(h.drain(b).messages.map((m) => m.Content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    },
  },
  'synccheck-race': {
    run(h) {
      const a = h.user('alice');
      const b = h.user('bob');
      const poll = h.batch(() => {
        const p = h.synccheck(b);
        h.sendReq(a, 'bob', 'x');
        return p;
      });
      h.flush();
      expect(h.syncCheckResult(poll)).toEqual({ retcode: '0', selector: '2' });
    },
  },
  'evict-unconsumed': {
    options: { core: { maxLogItemsPerCategory: 3 } },
    run(h) {
      const a = h.user('alice');
      const b = h.user('bob');
      h.drain(a);
      for (let i = 0; i < 3; i++) h.sendOk(b, 'alice', `m${i}`);
      // Alice's device has consumed none of them: her full log refuses.
      expect(h.send(b, 'alice', 'one too many').BaseResponse.Ret).toBe(1110);
    },
  },
};

describe('planted core bugs are caught', () => {
  for (const [bug, s] of Object.entries(SCENARIOS)) {
    it(`${bug}: the scenario passes without the bug and fails with it`, () => {
      const clean = new Harness({ ...s.options });
      try {
        s.run(clean);
        expect(clean.doubleAnswers).toEqual([]);
      } finally {
        clean.dispose();
      }
      const buggy = new Harness({ ...s.options, bugs: new Set([bug as PlantedBug]) });
      try {
        expect(() => s.run(buggy)).toThrow();
      } finally {
        buggy.dispose();
      }
    });
  }
});
