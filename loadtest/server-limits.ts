// The limits of a server under load test. A load population is a few
// accounts doing the traffic of many users from one loopback address, so the
// per-account send quotas and the per-address connection cap and rate (anti-abuse
// limits that an honest user never reaches, docs/limits.md) would measure
// themselves instead of the server. The load test lifts exactly those; the
// abuse profile, which measures them, keeps the defaults.
import { QUOTAS_LIFTED, type CoreConfig } from '../server/core/config.ts';
import { ADMISSION_LIFTED, REGISTRATIONS_LIFTED, type NodeConfig } from '../server/node/node-config.ts';
import { CONNECTION_LIMITS_LIFTED, type TransportLimits } from '../server/transport/transport-limits.ts';

export const LOAD_TRANSPORT_LIMITS: Partial<TransportLimits> = CONNECTION_LIMITS_LIFTED;

export const LOAD_CORE_LIMITS: Partial<CoreConfig> = QUOTAS_LIFTED;

/**
 * Every profile's setup registers its accounts from the one loopback address
 * (the abuse profile's group spam alone registers 500), which the
 * per-address registration quota would refuse; no attack measures it, so
 * every server of the load test, the abuse profile's too, lifts it.
 */
export const SETUP_NODE_LIMITS: Partial<NodeConfig> = REGISTRATIONS_LIFTED;

/** A load population logs hundreds of devices in at once: as many password hashes may run (the abuse profile keeps the limit). */
export const LOAD_NODE_LIMITS: Partial<NodeConfig> = ADMISSION_LIFTED;
