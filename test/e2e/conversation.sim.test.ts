// The end-to-end conversation over the simulated network: the real node and
// reference client cores in a seeded world, in virtual time.
import { conversationSuite } from '../harness/e2e-suite.ts';
import { SimDeployment } from '../harness/sim-deployment.ts';

conversationSuite('the conversation over the simulated network', () => new SimDeployment());
