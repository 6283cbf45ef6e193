#include "core/coro/async_connection.h"

#include <cassert>
#include <utility>

#include "core/coro/stream_exceptions.h"

namespace sluice {

using coro_internal::ReadRequest;

// ---- Read awaitables ---------------------------------------------------------

ReadOpBase::~ReadOpBase() {
  if (handle_) conn_->cancel_read(*this);
}

bool ReadOpBase::await_suspend(std::coroutine_handle<> h) { return conn_->start_read(*this, h); }

ReadResult ReadOpBase::take_result() {
  assert(result_.has_value());
  ReadResult r = std::move(*result_);
  result_.reset();
  return r;
}

std::string ReadOp::await_resume() {
  ReadResult r = take_result();
  if (!r.ok()) throw_stream_error(std::move(r).error());
  return std::move(r).value();
}

std::optional<std::string> NextLineOp::await_resume() {
  ReadResult r = take_result();
  if (!r.ok()) throw_stream_error(std::move(r).error());
  if (r->empty()) return std::nullopt;  // readline() == "" only at EOF
  return std::move(r).value();
}

// ---- Status awaitables -------------------------------------------------------

StatusOpBase::~StatusOpBase() {
  if (linked()) conn_->cancel_status(*this);
}

bool StatusOpBase::await_suspend(std::coroutine_handle<> h) {
  return conn_->start_status(*this, h);
}

Status StatusOpBase::take_result() {
  assert(result_.has_value());
  Status s = std::move(*result_);
  result_.reset();
  return s;
}

void StatusOp::await_resume() {
  Status s = take_result();
  if (!s.ok()) throw_stream_error(std::move(s).error());
}

std::optional<Status> StatusOpBase::take_preset() {
  assert(!linked());  // as_result() is called before co_await
  return std::exchange(result_, std::nullopt);
}

namespace coro_internal {

void WaiterList::push_back(StatusOpBase& op) {
  assert(!op.linked());
  if (head_ == nullptr) {
    op.prev_ = op.next_ = &op;
    head_ = &op;
    return;
  }
  StatusOpBase* tail = head_->prev_;
  op.prev_ = tail;
  op.next_ = head_;
  tail->next_ = &op;
  head_->prev_ = &op;
}

void WaiterList::remove(StatusOpBase& op) {
  assert(op.linked());
  if (op.next_ == &op) {
    assert(head_ == &op);
    head_ = nullptr;
  } else {
    op.prev_->next_ = op.next_;
    op.next_->prev_ = op.prev_;
    if (head_ == &op) head_ = op.next_;
  }
  op.prev_ = op.next_ = nullptr;
}

StatusOpBase* WaiterList::pop_first(StatusOpBase::Kind kind) {
  if (head_ == nullptr) return nullptr;
  StatusOpBase* op = head_;
  do {
    if (op->kind_ == kind) {
      remove(*op);
      return op;
    }
    op = op->next_;
  } while (op != head_);
  return nullptr;
}

}  // namespace coro_internal

// ---- AsyncReader -------------------------------------------------------------

ReadOp AsyncReader::read(std::int64_t n) {
  return op(ReadRequest::of(ReadRequest::Kind::kRead, n));
}
ReadOp AsyncReader::readline() { return op(ReadRequest::of(ReadRequest::Kind::kReadLine)); }
ReadOp AsyncReader::readexactly(std::int64_t n) {
  return op(ReadRequest::of(ReadRequest::Kind::kReadExactly, n));
}
ReadOp AsyncReader::readuntil(std::string_view separator) {
  return op(ReadRequest::of(ReadRequest::Kind::kReadUntil, -1, separator));
}
ReadOp AsyncReader::readuntil(std::span<const std::string_view> separators) {
  return op(ReadRequest::of(ReadRequest::Kind::kReadUntilAny, -1, {}, separators));
}
NextLineOp AsyncReader::next_line() {
  return NextLineOp(*conn_, ReadRequest::of(ReadRequest::Kind::kReadLine));
}
bool AsyncReader::at_eof() const { return conn_->conn_.reader().at_eof(); }
const std::optional<StreamError>& AsyncReader::exception() const {
  return conn_->conn_.reader().exception();
}
const StreamReader& AsyncReader::core() const { return conn_->conn_.reader(); }

// ---- AsyncWriter -------------------------------------------------------------

namespace {
void throw_if_error(Status s) {
  if (!s.ok()) throw_stream_error(std::move(s).error());
}
}  // namespace

Status AsyncWriter::try_write(std::string_view data) {
  return conn_->on_writer([&](StreamWriter& w) { return w.write(data); });
}
Status AsyncWriter::try_write(std::string&& data) {
  return conn_->on_writer([&](StreamWriter& w) { return w.write(std::move(data)); });
}
void AsyncWriter::write(std::string_view data) { throw_if_error(try_write(data)); }
void AsyncWriter::write(std::string&& data) { throw_if_error(try_write(std::move(data))); }
void AsyncWriter::writelines(std::span<const std::string_view> pieces) {
  throw_if_error(conn_->on_writer([&](StreamWriter& w) { return w.writelines(pieces); }));
}
bool AsyncWriter::can_write_eof() const { return conn_->conn_.writer().can_write_eof(); }
void AsyncWriter::write_eof() {
  throw_if_error(conn_->on_writer([](StreamWriter& w) { return w.write_eof(); }));
}
void AsyncWriter::close() {
  conn_->on_writer([](StreamWriter& w) {
    w.close();
    return 0;
  });
}
void AsyncWriter::abort() {
  conn_->on_writer([](StreamWriter& w) {
    w.abort();
    return 0;
  });
}
bool AsyncWriter::is_closing() const { return conn_->conn_.writer().is_closing(); }
StatusOp AsyncWriter::drain() { return StatusOp(*conn_, StatusOpBase::Kind::kDrain); }
StatusOp AsyncWriter::wait_closed() { return StatusOp(*conn_, StatusOpBase::Kind::kWaitClosed); }
void AsyncWriter::set_write_buffer_limits(std::optional<std::int64_t> high,
                                          std::optional<std::int64_t> low) {
  throw_if_error(conn_->conn_.writer().set_write_buffer_limits(high, low));
}
WriteBufferLimits AsyncWriter::get_write_buffer_limits() const {
  return conn_->conn_.writer().get_write_buffer_limits();
}
std::size_t AsyncWriter::get_write_buffer_size() const {
  return conn_->conn_.writer().get_write_buffer_size();
}
const StreamWriter& AsyncWriter::core() const { return conn_->conn_.writer(); }

// ---- AsyncConnection ---------------------------------------------------------

AsyncConnection::AsyncConnection(Executor& executor, ConnectionOptions options)
    : conn_(options), executor_(&executor) {}

AsyncConnection::~AsyncConnection() {
  assert(read_waiter_ == nullptr && status_waiters_.empty() &&
         "an AsyncConnection must outlive the coroutines waiting on it");
}

StatusOp AsyncConnection::handshake() { return StatusOp(*this, StatusOpBase::Kind::kHandshake); }

StatusOp AsyncConnection::start_tls(TlsOptions options, StartTlsBuffered buffered) {
  const Interest before = interest();
  Status started = conn_.start_tls(std::move(options), buffered);
  wake_if_changed(before);
  if (!started.ok()) {
    return StatusOp(*this, StatusOpBase::Kind::kHandshake, std::optional<Status>(std::move(started)));
  }
  return StatusOp(*this, StatusOpBase::Kind::kHandshake);
}

void AsyncConnection::wake_if_changed(Interest before) {
  if (interest() != before) executor_->wake(conn_);
}

bool AsyncConnection::start_read(ReadOpBase& op, std::coroutine_handle<> h) {
  const Interest before = interest();
  StreamReader& r = conn_.reader();
  const ReadRequest& q = op.request_;
  ReadPoll poll;
  switch (q.kind) {
    case ReadRequest::Kind::kRead:
      poll = r.read(q.n());
      break;
    case ReadRequest::Kind::kReadLine:
      poll = r.readline();
      break;
    case ReadRequest::Kind::kReadExactly:
      poll = r.readexactly(q.n());
      break;
    case ReadRequest::Kind::kReadUntil:
      poll = r.readuntil(q.separator());
      break;
    case ReadRequest::Kind::kReadUntilAny:
      poll = r.readuntil(q.separators());
      break;
  }
  const bool waits = !poll.has_value();
  if (waits) {
    // Registered before the wake below: a driver that acts inside wake() may
    // complete this read at once (dispatch then only posts h).
    assert(read_waiter_ == nullptr && h);
    op.handle_ = h;
    read_waiter_ = &op;
  } else {
    op.result_ = std::move(*poll);
  }
  wake_if_changed(before);
  return waits;
}

void AsyncConnection::cancel_read(ReadOpBase& op) {
  assert(read_waiter_ == &op);
  read_waiter_ = nullptr;
  op.handle_ = {};
  conn_.reader().cancel_pending_read();
}

bool AsyncConnection::start_status(StatusOpBase& op, std::coroutine_handle<> h) {
  if (op.result_) return false;  // known before the co_await
  StatusPoll poll;
  switch (op.kind_) {
    case StatusOpBase::Kind::kDrain:
      poll = conn_.writer().drain();
      break;
    case StatusOpBase::Kind::kWaitClosed:
      poll = conn_.writer().wait_closed();
      break;
    case StatusOpBase::Kind::kHandshake:
      poll = conn_.handshake();
      break;
  }
  if (poll) {
    op.result_ = std::move(*poll);
    return false;
  }
  op.handle_ = h;
  status_waiters_.push_back(op);
  return true;
}

void AsyncConnection::cancel_status(StatusOpBase& op) { status_waiters_.remove(op); }

void AsyncConnection::release(StatusOpBase::Kind kind, const Status& status) {
  while (StatusOpBase* op = status_waiters_.pop_first(kind)) {
    op->result_ = status;
    executor_->post(op->handle_);
  }
}

void AsyncConnection::dispatch(Completions completions) {
  if (completions.read) {
    // The core completes a read only while one is pending, and a pending
    // read always has its waiter (a cancelled waiter withdraws the read).
    assert(read_waiter_ != nullptr);
    if (ReadOpBase* op = std::exchange(read_waiter_, nullptr)) {
      op->result_ = std::move(*completions.read);
      executor_->post(std::exchange(op->handle_, {}));
    }
  }
  if (completions.handshake) release(StatusOpBase::Kind::kHandshake, *completions.handshake);
  if (completions.drain) release(StatusOpBase::Kind::kDrain, *completions.drain);
  if (completions.closed) release(StatusOpBase::Kind::kWaitClosed, *completions.closed);
}

}  // namespace sluice
