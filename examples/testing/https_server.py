#!/usr/bin/env python3
"""Python's http.server over TLS, for the examples' https:// checks
(examples/testing/http_test.sh). Standard library only.

    https_server.py CERT KEY DIRECTORY

Serves DIRECTORY on 127.0.0.1, on a free port, presenting CERT (with its
KEY); prints "port N" once listening, then serves until killed.
"""

import functools
import http.server
import ssl
import sys


def main(cert, key, directory):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        # Handshakes happen in accept(); a failed one is dropped there (an
        # OSError), and the server goes on.
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        print(f"port {httpd.server_address[1]}", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
