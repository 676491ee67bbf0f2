// Setup file of the Node test project: the tests import the sources, not the package's `node` entry
// (src/node.ts), so they install Dawn's adapter the way that entry does.
import { installNodeGpu } from '../../src/gpu/node-adapter.ts';

installNodeGpu();
