// Placeholder: tests of the postgres engine are being written (issue 4).
#include <gtest/gtest.h>
