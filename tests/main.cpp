// SPDX-License-Identifier: MIT
// The doctest runner for courier_tests.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
