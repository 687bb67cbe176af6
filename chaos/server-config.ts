// What the chaos runner and its server child say to each other over IPC.
// The child boots (loads the server's modules) and says so; it opens the
// database only when told to start, so a booted spare can stand by while
// the running server is killed, and a restart costs no module loading.
import type { CoreConfig } from '../server/core/config.ts';
import type { NodeConfig } from '../server/node/node-config.ts';
import type { PlantedBug } from '../server/core/planted-bugs.ts';

export interface ServerEntryConfig {
  /** The run's SQLite file: the same across crashes and restarts. */
  db: string;
  synchronous: 'FULL' | 'NORMAL';
  scryptN: number;
  core?: Partial<CoreConfig>;
  node?: Partial<NodeConfig>;
  /** The server's planted bugs (a list: a Set does not cross the IPC channel). */
  bugs?: PlantedBug[];
}

/** child → parent: the modules are loaded; waiting for StartServer. */
export interface ServerBooted {
  type: 'booted';
}

/** parent → child */
export interface StartServer {
  type: 'start';
  config: ServerEntryConfig;
}

/** child → parent: listening. */
export interface ServerReady {
  type: 'ready';
  pid: number;
  httpPort: number;
  tcpPort: number;
}

/** child → parent: startServer threw (the message says why). */
export interface ServerFailed {
  type: 'failed';
  message: string;
}

export type FromServer = ServerBooted | ServerReady | ServerFailed;
