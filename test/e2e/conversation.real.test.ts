// The end-to-end conversation over real sockets: the real server on loopback
// and the reference client (NetClient) on TCP, WebSocket and HTTP.
import { conversationSuite } from '../harness/e2e-suite.ts';
import { RealDeployment } from '../harness/real-deployment.ts';

conversationSuite('the conversation over real sockets', () => new RealDeployment());
// The same server committing on its storage thread (--storage-thread on): both store paths keep every guarantee.
conversationSuite('the conversation over real sockets, commits on the storage thread', () => new RealDeployment(true));
