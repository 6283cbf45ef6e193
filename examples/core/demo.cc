// The sans-IO core on its own: a StreamReader fed an HTTP response in
// awkward chunks, read the way asyncio code reads it. No sockets: the "driver"
// is this loop, which is all an event loop has to do.
#include <cstdio>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream_reader.h"

namespace {

void show(std::string_view what, const sluice::ReadResult& r) {
  if (r.ok()) {
    std::string text;
    for (char c : *r) text += c == '\r' ? "\\r" : c == '\n' ? "\\n" : std::string(1, c);
    std::printf("%-28s -> %zu bytes: \"%s\"\n", std::string(what).c_str(), r->size(), text.c_str());
  } else {
    std::printf("%-28s -> error: %s\n", std::string(what).c_str(), r.error().message().c_str());
  }
}

}  // namespace

int main() {
  sluice::StreamReader reader(/*limit=*/64);
  const std::vector<std::string_view> chunks = {
      "HTTP/1.0 200 OK\r\nContent-Le", "ngth: 12\r\nServer: sl", "uice\r\n\r\nhello",
      " world!", "this line is far too long for a reader whose limit is 64 bytes, so...\n"
      "but the next one is fine\n"};

  std::printf("feeding %zu chunks; reads complete as soon as their bytes are in\n\n",
              chunks.size());
  std::size_t next = 0;
  // Issue a read; while it is pending, feed the next chunk (the driver's job).
  auto run = [&](std::string_view what, auto&& start) {
    sluice::ReadPoll r = start();
    while (!r && next < chunks.size()) r = reader.feed_data(chunks[next++]);
    if (!r) r = reader.feed_eof();
    show(what, *r);
    return std::move(*r);
  };

  for (;;) {
    sluice::ReadResult line = run("readline()", [&] { return reader.readline(); });
    if (!line.ok() || *line == "\r\n") break;
  }
  (void)run("readexactly(12)", [&] { return reader.readexactly(12); });
  (void)run("readline() over the limit", [&] { return reader.readline(); });
  (void)run("readline()", [&] { return reader.readline(); });
  (void)run("readuntil({\"!\", \"?\"})", [&] { return reader.readuntil({"!", "?"}); });
  (void)run("read(-1)", [&] { return reader.read(-1); });
  std::printf("\nat_eof() = %s, buffer memory held = %zu bytes\n",
              reader.at_eof() ? "true" : "false", reader.buffer_capacity());
  return 0;
}
