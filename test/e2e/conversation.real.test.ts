// The end-to-end conversation over real sockets: the real server on loopback
// and the reference client (NetClient) on TCP, WebSocket and HTTP.
import { conversationSuite } from '../harness/e2e-suite.ts';
import { RealDeployment } from '../harness/real-deployment.ts';

conversationSuite('the conversation over real sockets', () => new RealDeployment());
// The same server committing on its event loop (--storage-thread off): both store paths keep every guarantee.
conversationSuite('the conversation over real sockets, commits on the event loop', () => new RealDeployment(false));
