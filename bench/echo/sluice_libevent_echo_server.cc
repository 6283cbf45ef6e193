// File: bench/echo/sluice_libevent_echo_server.cc
//
// sluice's libevent backend serving the asyncio docs' echo handler (readline,
// write, drain), with the same command line as the examples' echo_server and
// no log line per echoed line (see sluice_asio_echo_server.cc for why the
// benchmark keeps a log-free server next to each example).
//
//   sluice_libevent_echo_server --host 127.0.0.1 --port P     (server_flags.h)

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>

#include <event2/event.h>

#include "backends/libevent/streams.h"
#include "bench/echo/server_flags.h"

namespace {

namespace sle = sluice::libevent_backend;

sluice::Task<void> handle_echo(sle::StreamReader reader, sle::StreamWriter writer) {
  try {
    while (std::optional<std::string> line = co_await reader.next_line()) {
      writer.write(std::move(*line));
      co_await writer.drain();
    }
  } catch (const std::system_error&) {
    // a reset connection: it is over
  }
  writer.close();
}

struct Stop {
  sle::Server* server;
  event* signals[2];
};

void on_signal(evutil_socket_t, short, void* arg) {
  Stop* stop = static_cast<Stop*>(arg);
  for (event* e : stop->signals) event_del(e);
  stop->server->close();
  stop->server->abort_clients();
}

}  // namespace

int main(int argc, char** argv) {
  const sluice::bench::ServerFlags flags =
      sluice::bench::parse_server_flags(argc, argv, "sluice_libevent_echo_server");
  event_base* base = event_base_new();
  {
    sle::Server server;
    try {
      server = sle::start_server(base, handle_echo, flags.host, static_cast<std::uint16_t>(flags.port));
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "sluice_libevent_echo_server: %s\n", e.what());
      return 1;
    }
    Stop stop{&server, {}};
    stop.signals[0] = evsignal_new(base, SIGINT, on_signal, &stop);
    stop.signals[1] = evsignal_new(base, SIGTERM, on_signal, &stop);
    for (event* e : stop.signals) event_add(e, nullptr);
    sluice::bench::announce(flags.host, server.sockets().front().port());
    event_base_dispatch(base);  // until the server and its connections are gone
    for (event* e : stop.signals) event_free(e);
  }
  event_base_free(base);
  return 0;
}
