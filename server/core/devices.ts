// A device's standing: live while its session is in use (it then holds
// retention back), and the acknowledged position it last presented.
import type { Write } from '../store/store-ops.ts';
import type { CoreConfig } from './config.ts';
import { Category, maxPer, type Device, type PerCategory } from './model.ts';

export function isLive(config: CoreConfig, d: Device, now: number): boolean {
  return d.sid !== '' && now - d.lastSeenAt <= config.sessionTtlMs;
}

/** Device writes for an acknowledgement and a sign of life, only when something changed. */
export function touch(config: CoreConfig, device: Device, now: number, presented: PerCategory): Write[] {
  const acked = maxPer(device.acked, presented);
  const ackMoved = acked[Category.Messages] !== device.acked[Category.Messages] || acked[Category.Contacts] !== device.acked[Category.Contacts];
  const stale = now - device.lastSeenAt >= config.lastSeenGranularityMs;
  if (!ackMoved && !stale) return [];
  const d: Device = { uin: device.uin, deviceId: device.deviceId, sid: device.sid, prevSid: device.prevSid, acked, createdAt: device.createdAt, lastSeenAt: stale ? now : device.lastSeenAt };
  return [{ kind: 'putDevice', device: d }];
}
