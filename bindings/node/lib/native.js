'use strict';
// Loads the addon: build/r2.node (made by `make node`). It finds libr2 next to
// itself, then at $R2_LIBRARY, then on the system loader path.
const path = require('node:path');

module.exports = require(path.join(__dirname, '..', 'build', 'r2.node'));
