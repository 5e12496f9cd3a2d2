// Placeholder: tests of the trino engine are being written (issue 4).
#include <gtest/gtest.h>
