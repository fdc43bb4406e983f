'use strict';
// Loads the addon: build/r2.node (made by `make node`). It finds libr2 next to
// itself, then at $R2_LIBRARY, then on the system loader path.
const path = require('node:path');

const native = require(path.join(__dirname, '..', 'build', 'r2.node'));

// The addon hands results to JS in short batches and calls this to get the
// next batch handled on a later turn, so timers and I/O run in between.
native.setScheduler(() => setImmediate(native.drainMessages));

module.exports = native;
