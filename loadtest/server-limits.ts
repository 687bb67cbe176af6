// The limits of a server under load test. A load population is a few
// accounts doing the traffic of many users from one loopback address, so the
// per-account send quotas and the per-address connection cap (anti-abuse
// limits that an honest user never reaches, docs/limits.md) would measure
// themselves instead of the server. The load test lifts exactly those; the
// abuse profile, which measures them, keeps the defaults.
import { QUOTAS_LIFTED, type CoreConfig } from '../server/core/config.ts';
import { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from '../server/transport/transport-limits.ts';

export const LOAD_TRANSPORT_LIMITS: Partial<TransportLimits> = {
  maxConnectionsPerAddress: DEFAULT_TRANSPORT_LIMITS.maxConnections,
};

export const LOAD_CORE_LIMITS: Partial<CoreConfig> = QUOTAS_LIFTED;
