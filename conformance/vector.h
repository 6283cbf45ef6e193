// File: conformance/vector.h
//
// Vector and parse_vector: a conformance vector (shared/conformance-vectors.md,
// format version 1) parsed into the list of operations it scripts. A vector
// is JSON Lines: one JSON object per line, line i is operation i (the
// optional config line included, as i = 0).
//
//   {"op":"config","limit":4}
//   {"op":"readline"}
//   {"op":"feed","hex":"68690a"}
//
// parses to ops[0] = {kConfig, n = 4}, ops[1] = {kReadline},
// ops[2] = {kFeed, data = "hi\n"}.
//
// Rules (anything else is a ParseError naming the line, see parse_error.h):
//   - Each line is a JSON object (json.h, strict) whose member "op" is a
//     string naming a known operation. Members an operation does not use
//     (e.g. "expect") are ignored, whatever their type; a member it uses must
//     have the right type.
//   - config: first line only. "limit" (integer, optional, default
//     kDefaultVectorLimit) and "chunk_sensitive" (boolean, optional). A limit
//     <= 0 parses; running the vector reports it as invalid_argument.
//   - feed: "hex" (string of hex digit pairs, either case; "" is allowed).
//     A feed after a feed_eof line is an error: asyncio asserts against it,
//     so it has no reference result (the reference replayer rejects it too).
//   - read, readexactly: "n" (integer that fits in int64; any sign).
//   - readuntil: "sep", a hex string or an array of hex strings (an empty
//     string or array parses; running the vector reports invalid_argument).
//   - readline, feed_eof, set_exception, at_eof: no members.
//   - Line ends are "\n"; a "\r" before it is JSON whitespace, so CRLF files
//     parse. Blank (whitespace-only) lines at the end of the text are
//     ignored, so a final newline or an empty trailing line is fine; a blank
//     line with an operation after it is an error, because it would make the
//     line numbers (i) ambiguous. Empty text is a vector with no operations.

#ifndef SLUICE_CONFORMANCE_VECTOR_H_
#define SLUICE_CONFORMANCE_VECTOR_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/parse_error.h"

namespace sluice::conformance {

// The reader's limit when a vector has no config line (asyncio's default).
inline constexpr std::int64_t kDefaultVectorLimit = 65536;

enum class OpKind {
  kConfig,
  kFeed,
  kFeedEof,
  kSetException,
  kRead,
  kReadline,
  kReadexactly,
  kReaduntil,
  kAtEof,
};

// op_name: the "op" string of `kind`, e.g. "feed_eof".
std::string_view op_name(OpKind kind);

// is_read: `kind` is one of read, readline, readexactly, readuntil.
bool is_read(OpKind kind);

struct Op {
  OpKind kind = OpKind::kAtEof;
  // kConfig: the limit; kRead, kReadexactly: n.
  std::int64_t n = 0;
  // kConfig: "chunk_sensitive" (network backends only).
  bool chunk_sensitive = false;
  // kFeed: the bytes (decoded from hex).
  std::string data;
  // kReaduntil: the separators (decoded), one per string.
  std::vector<std::string> separators;
  // kReaduntil: "sep" was an array (readuntil's tuple form), even of one.
  bool separator_list = false;

  friend bool operator==(const Op&, const Op&) = default;
};

struct Vector {
  // ops[i] is line i. Only ops[0] may be kConfig.
  std::vector<Op> ops;

  // limit: the config line's limit, or kDefaultVectorLimit without one.
  std::int64_t limit() const;
  // chunk_sensitive: the config line says the vector is chunk-sensitive.
  bool chunk_sensitive() const;
};

// parse_vector: the vector in `text` (the whole JSON Lines file), or the
// first problem found, with its 1-based line (and column for JSON errors).
Parsed<Vector> parse_vector(std::string_view text);

// decode_hex: the bytes spelled by `hex` (pairs of hex digits, either case),
// or a ParseError (line 0) saying which character is wrong.
Parsed<std::string> decode_hex(std::string_view hex);

// encode_hex: `bytes` as lower-case hex.
std::string encode_hex(std::string_view bytes);

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_VECTOR_H_
