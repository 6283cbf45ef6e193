"""sluice_fuzz_test: one fuzz target, two builds.

sluice_fuzz_test(name = "x", srcs = ["x.cc"], deps = [...]) gives
  - `x`: a cc_test that replays every file of fuzz/corpus/x/ through the
    target's LLVMFuzzerTestOneInput (fuzz/corpus_main.cc), so the corpus and
    every crash committed to it are regression tests in the normal suite;
  - `x_fuzzer`: under --config=fuzz, a libFuzzer binary (clang 14,
    -fsanitize=fuzzer); in other configs it is the same corpus replayer, so
    `bazel build //...` never needs clang.
"""

load("//bazel:copts.bzl", "SLUICE_TEST_COPTS")

def sluice_fuzz_test(name, srcs, deps = [], corpus = None):
    corpus = corpus or name
    native.cc_test(
        name = name,
        srcs = srcs,
        copts = SLUICE_TEST_COPTS,
        args = ["$(locations :%s_corpus)" % name],
        data = [":%s_corpus" % name],
        deps = deps + ["//fuzz:corpus_main"],
    )
    native.filegroup(
        name = name + "_corpus",
        srcs = native.glob(["corpus/%s/**" % corpus], allow_empty = False),
    )
    native.cc_binary(
        name = name + "_fuzzer",
        srcs = srcs,
        copts = SLUICE_TEST_COPTS,
        linkopts = select({
            "//bazel:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            "//bazel:fuzzing": [],
            "//conditions:default": ["//fuzz:corpus_main"],
        }),
        tags = ["manual"],
        testonly = True,
    )
