// One running copy of the client app on a device: the real ClientCore plus
// the links and requests it has on the simulated network. A killed or
// replaced instance is dead: whatever still arrives for it is dropped.
import type { ClientCore } from '../client/core/client-core.ts';
import type { SimStream } from './network.ts';

export interface InstanceLink {
  stream: SimStream;
  serverLink: number;
}

export class AppInstance {
  alive = true;
  /** Replaced by a newer login of the same device: runs until told 1101, unseen by the checkers. */
  ghost = false;
  readonly links = new Map<number, InstanceLink>();
  /** Client links whose connect is still under way. */
  readonly connecting = new Set<number>();
  timerToken = 0;
  timerAt = Infinity;
  /** LocalIDs the server refused for good or that ran out of tries. */
  readonly failed = new Set<string>();

  constructor(
    readonly id: number,
    readonly device: string,
    readonly core: ClientCore,
  ) {}
}
