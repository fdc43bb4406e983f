/* Low-level digests are used on purpose: they need no per-call algorithm fetch,
   which keeps cached SigV4 signing in the low microseconds. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <openssl/md5.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
