// Placeholder: tests arrive with the front-end.
#include <gtest/gtest.h>
