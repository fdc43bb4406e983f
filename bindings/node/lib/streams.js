'use strict';
// A web ReadableStream read through its reader, for streams without async iteration.

async function* readerIterable(stream) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

module.exports = { readerIterable };
