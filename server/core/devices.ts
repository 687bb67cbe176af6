// A device's standing: live while its session is in use (it then holds
// retention back), and the acknowledged position it last presented; gone
// once unseen for sessionTtlMs (its records are then deleted), and the
// fingerprints of its deleted sessions.
import type { Write } from '../store/store-ops.ts';
import type { CoreConfig } from './config.ts';
import { Category, maxPer, type Device, type PerCategory } from './model.ts';
import { sidFingerprint } from './sid-fingerprint.ts';

export function isLive(config: CoreConfig, d: Device, now: number): boolean {
  return d.sid !== '' && now - d.lastSeenAt <= config.sessionTtlMs;
}

/** Unseen for longer than a session lives (expired, or logged out that long ago): its records may go. */
export function isGone(config: CoreConfig, d: Device, now: number): boolean {
  return now - d.lastSeenAt > config.sessionTtlMs;
}

/** The writes that forget a device: its sessions and its record. */
export function forgetDevice(d: Device): Write[] {
  const out: Write[] = [];
  if (d.sid !== '') out.push({ kind: 'deleteSession', sid: d.sid });
  if (d.prevSid !== '') out.push({ kind: 'deleteSession', sid: d.prevSid });
  out.push({ kind: 'deleteDevice', uin: d.uin, deviceId: d.deviceId });
  return out;
}

/** The device's retired fingerprints with `sid`'s added, the oldest dropped past retiredSidsPerDevice. */
export function retire(config: CoreConfig, d: Device, sid: string): string[] {
  const kept = [...d.retiredSids, sidFingerprint(sid)];
  return kept.slice(Math.max(0, kept.length - config.retiredSidsPerDevice));
}

/** Device writes for an acknowledgement and a sign of life, only when something changed. */
export function touch(config: CoreConfig, device: Device, now: number, presented: PerCategory): Write[] {
  const acked = maxPer(device.acked, presented);
  const ackMoved = acked[Category.Messages] !== device.acked[Category.Messages] || acked[Category.Contacts] !== device.acked[Category.Contacts];
  const stale = now - device.lastSeenAt >= config.lastSeenGranularityMs;
  if (!ackMoved && !stale) return [];
  const d: Device = {
    uin: device.uin,
    deviceId: device.deviceId,
    sid: device.sid,
    prevSid: device.prevSid,
    retiredSids: device.retiredSids,
    acked,
    createdAt: device.createdAt,
    lastSeenAt: stale ? now : device.lastSeenAt,
  };
  return [{ kind: 'putDevice', device: d }];
}
