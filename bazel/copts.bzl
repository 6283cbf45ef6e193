"""Compiler options shared by every sluice target."""

SLUICE_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]

SLUICE_TEST_COPTS = SLUICE_COPTS
