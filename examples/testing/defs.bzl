"""The end-to-end tests every backend's examples share (examples/testing/*.sh)."""

def example_tests():
    """Wires the shared test scripts to this package's example binaries.

    The package must define echo_server, echo_client, http_headers, wget and
    socketpair with the common command lines (see examples/asio/BUILD.bazel).
    The TLS checks need the openssl command line and python3 on the PATH.
    """
    native.sh_test(
        name = "echo_test",
        size = "small",
        srcs = ["//examples/testing:echo_test.sh"],
        args = [
            "$(rootpath :echo_server)",
            "$(rootpath :echo_client)",
        ],
        data = [
            ":echo_client",
            ":echo_server",
        ],
        deps = ["//examples/testing:lib"],
    )
    native.sh_test(
        name = "http_test",
        size = "small",
        srcs = ["//examples/testing:http_test.sh"],
        args = [
            "$(rootpath :http_headers)",
            "$(rootpath :wget)",
            "$(rootpath //examples/testing:https_server.py)",
        ],
        data = [
            ":http_headers",
            ":wget",
            "//examples/testing:https_server.py",
        ],
        deps = ["//examples/testing:lib"],
    )
    native.sh_test(
        name = "tls_echo_test",
        size = "small",
        srcs = ["//examples/testing:tls_echo_test.sh"],
        args = [
            "$(rootpath :echo_server)",
            "$(rootpath :echo_client)",
        ],
        data = [
            ":echo_client",
            ":echo_server",
        ],
        deps = ["//examples/testing:lib"],
    )
    native.sh_test(
        name = "socketpair_test",
        size = "small",
        srcs = ["//examples/testing:socketpair_test.sh"],
        args = ["$(rootpath :socketpair)"],
        data = [":socketpair"],
        deps = ["//examples/testing:lib"],
    )
