// Placeholder: the trino engine is being written (issue 4).
#include "engines/engine.h"
