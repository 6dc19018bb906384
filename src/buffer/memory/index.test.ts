import { runBufferSuite } from '../conformance.js';
import { createMemoryBuffer } from './index.js';

// No reopen: the memory buffer has no store that outlives the object (the suite skips that case visibly).
runBufferSuite('memory', {
  create: async (options) => createMemoryBuffer(options),
});
