// The end-to-end conversation over real sockets: the real server on loopback
// and the reference client (NetClient) on TCP, WebSocket and HTTP.
import { conversationSuite } from '../harness/e2e-suite.ts';
import { RealDeployment } from '../harness/real-deployment.ts';

conversationSuite('the conversation over real sockets', () => new RealDeployment());
