#include "supervisor/uv_handles.h"

namespace hutch {
namespace {

template <typename H>
void close_and_delete(H *handle) {
  uv_close(reinterpret_cast<uv_handle_t *>(&handle->uv), [](uv_handle_t *raw) {
    delete static_cast<H *>(raw->data);
  });
}

}  // namespace

Error uv_error(int status, const std::string &what) { return Error{-status, what + ": " + uv_strerror(status)}; }

struct UvTimer::Handle {
  uv_timer_t uv;
  std::function<void()> callback;
  int init_status = 0;  // uv_timer_init's; a handle it refused was never initialised and is not closed
};

UvTimer::UvTimer(uv_loop_t *loop) : handle_(new Handle) {
  // Reported by start(), the first call that can say so to someone who can act on it.
  handle_->init_status = uv_timer_init(loop, &handle_->uv);
  handle_->uv.data = handle_;
}

UvTimer::~UvTimer() {
  if (handle_->init_status != 0) {
    delete handle_;
    return;
  }
  uv_timer_stop(&handle_->uv);
  handle_->callback = nullptr;
  close_and_delete(handle_);
}

Status UvTimer::start(uint64_t timeout_ms, std::function<void()> callback, uint64_t repeat_ms) {
  if (handle_->init_status != 0) return fail(uv_error(handle_->init_status, "uv_timer_init"));
  handle_->callback = std::move(callback);
  int started = uv_timer_start(
      &handle_->uv,
      [](uv_timer_t *timer) {
        auto *handle = static_cast<Handle *>(timer->data);
        if (handle->callback) {
          auto callback = handle->callback;  // the callback may restart or destroy this timer
          callback();
        }
      },
      timeout_ms, repeat_ms);
  if (started != 0) {
    handle_->callback = nullptr;
    return fail(uv_error(started, "uv_timer_start"));
  }
  return {};
}

void UvTimer::stop() {
  if (handle_->init_status == 0) uv_timer_stop(&handle_->uv);
}

struct UvPoll::Handle {
  uv_poll_t uv;
  std::function<void()> on_readable;
};

Result<std::unique_ptr<UvPoll>> UvPoll::start(uv_loop_t *loop, int fd, const std::string &what,
                                              std::function<void()> on_readable) {
  auto *handle = new Handle;
  handle->on_readable = std::move(on_readable);
  if (int initialised = uv_poll_init(loop, &handle->uv, fd); initialised != 0) {
    delete handle;  // never initialised: nothing for libuv to close
    return fail(uv_error(initialised, "uv_poll_init(" + what + ")"));
  }
  handle->uv.data = handle;
  std::unique_ptr<UvPoll> poll(new UvPoll(handle));  // from here the destructor closes it, on every path
  int started = uv_poll_start(&handle->uv, UV_READABLE, [](uv_poll_t *raw, int, int) {
    auto *owned = static_cast<Handle *>(raw->data);
    if (owned->on_readable) {
      auto callback = owned->on_readable;  // the callback may destroy this poll
      callback();
    }
  });
  if (started != 0) return fail(uv_error(started, "uv_poll_start(" + what + ")"));
  return poll;
}

UvPoll::~UvPoll() {
  uv_poll_stop(&handle_->uv);
  handle_->on_readable = nullptr;
  close_and_delete(handle_);
}

void UvPoll::stop() { uv_poll_stop(&handle_->uv); }

struct UvPipeReader::Handle {
  uv_pipe_t uv;
  std::function<void(std::string_view)> on_data;
  std::function<void()> on_eof;
  bool eof = false;
  char buffer[64 * 1024];
};

Result<std::unique_ptr<UvPipeReader>> UvPipeReader::start(uv_loop_t *loop, UniqueFd fd, const std::string &what,
                                                          std::function<void(std::string_view)> on_data,
                                                          std::function<void()> on_eof) {
  auto *handle = new Handle;
  handle->on_data = std::move(on_data);
  handle->on_eof = std::move(on_eof);
  if (int initialised = uv_pipe_init(loop, &handle->uv, 0); initialised != 0) {
    delete handle;
    return fail(uv_error(initialised, "uv_pipe_init(" + what + ")"));
  }
  handle->uv.data = handle;
  std::unique_ptr<UvPipeReader> reader(new UvPipeReader(handle));
  // libuv owns the fd once uv_pipe_open succeeded and closes it with the handle; before that it is ours.
  if (int opened = uv_pipe_open(&handle->uv, fd.get()); opened != 0)
    return fail(uv_error(opened, "uv_pipe_open(" + what + ")"));
  fd.release();
  int reading = uv_read_start(
      reinterpret_cast<uv_stream_t *>(&handle->uv),
      [](uv_handle_t *raw, size_t, uv_buf_t *buf) {
        auto *owned = static_cast<Handle *>(raw->data);
        *buf = uv_buf_init(owned->buffer, sizeof owned->buffer);
      },
      [](uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
        auto *owned = static_cast<Handle *>(stream->data);
        if (nread > 0) {
          if (owned->on_data) owned->on_data(std::string_view(buf->base, static_cast<size_t>(nread)));
          return;
        }
        if (nread == 0) return;  // EAGAIN
        // EOF, or an error that ends the stream just the same (EPIPE, ECONNRESET).
        uv_read_stop(stream);
        owned->eof = true;
        if (owned->on_eof) {
          auto callback = owned->on_eof;
          callback();
        }
      });
  if (reading != 0) return fail(uv_error(reading, "uv_read_start(" + what + ")"));
  return reader;
}

UvPipeReader::~UvPipeReader() {
  uv_read_stop(reinterpret_cast<uv_stream_t *>(&handle_->uv));
  handle_->on_data = nullptr;
  handle_->on_eof = nullptr;
  close_and_delete(handle_);
}

bool UvPipeReader::at_eof() const { return handle_->eof; }

}  // namespace hutch
