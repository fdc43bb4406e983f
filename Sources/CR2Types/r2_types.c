/* The C types module has no code of its own; SwiftPM needs one source file. */
#include "r2_types.h"
