#include "supervisor/uv_handles.h"

#include <memory>

namespace hutch {
namespace {

template <typename H>
void close_and_delete(H *handle) {
  uv_close(reinterpret_cast<uv_handle_t *>(&handle->uv), [](uv_handle_t *raw) {
    delete static_cast<H *>(raw->data);
  });
}

}  // namespace

struct UvTimer::Handle {
  uv_timer_t uv;
  std::function<void()> callback;
};

UvTimer::UvTimer(uv_loop_t *loop) : handle_(new Handle) {
  uv_timer_init(loop, &handle_->uv);
  handle_->uv.data = handle_;
}

UvTimer::~UvTimer() {
  uv_timer_stop(&handle_->uv);
  handle_->callback = nullptr;
  close_and_delete(handle_);
}

void UvTimer::start(uint64_t timeout_ms, std::function<void()> callback, uint64_t repeat_ms) {
  handle_->callback = std::move(callback);
  uv_timer_start(
      &handle_->uv,
      [](uv_timer_t *timer) {
        auto *handle = static_cast<Handle *>(timer->data);
        if (handle->callback) {
          auto callback = handle->callback;  // the callback may restart or destroy this timer
          callback();
        }
      },
      timeout_ms, repeat_ms);
}

void UvTimer::stop() { uv_timer_stop(&handle_->uv); }

struct UvPoll::Handle {
  uv_poll_t uv;
  std::function<void()> on_readable;
};

UvPoll::UvPoll(uv_loop_t *loop, int fd, std::function<void()> on_readable) : handle_(new Handle) {
  handle_->on_readable = std::move(on_readable);
  uv_poll_init(loop, &handle_->uv, fd);
  handle_->uv.data = handle_;
  uv_poll_start(&handle_->uv, UV_READABLE, [](uv_poll_t *poll, int, int) {
    auto *handle = static_cast<Handle *>(poll->data);
    if (handle->on_readable) {
      auto callback = handle->on_readable;
      callback();
    }
  });
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

UvPipeReader::UvPipeReader(uv_loop_t *loop, UniqueFd fd, std::function<void(std::string_view)> on_data,
                           std::function<void()> on_eof)
    : handle_(new Handle) {
  handle_->on_data = std::move(on_data);
  handle_->on_eof = std::move(on_eof);
  uv_pipe_init(loop, &handle_->uv, 0);
  handle_->uv.data = handle_;
  uv_pipe_open(&handle_->uv, fd.release());  // libuv owns the fd from here and closes it with the handle
  uv_read_start(
      reinterpret_cast<uv_stream_t *>(&handle_->uv),
      [](uv_handle_t *raw, size_t, uv_buf_t *buf) {
        auto *handle = static_cast<Handle *>(raw->data);
        *buf = uv_buf_init(handle->buffer, sizeof handle->buffer);
      },
      [](uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
        auto *handle = static_cast<Handle *>(stream->data);
        if (nread > 0) {
          if (handle->on_data) handle->on_data(std::string_view(buf->base, static_cast<size_t>(nread)));
          return;
        }
        if (nread == 0) return;  // EAGAIN
        // EOF, or an error that ends the stream just the same (EPIPE, ECONNRESET).
        uv_read_stop(stream);
        handle->eof = true;
        if (handle->on_eof) {
          auto callback = handle->on_eof;
          callback();
        }
      });
}

UvPipeReader::~UvPipeReader() {
  uv_read_stop(reinterpret_cast<uv_stream_t *>(&handle_->uv));
  handle_->on_data = nullptr;
  handle_->on_eof = nullptr;
  close_and_delete(handle_);
}

bool UvPipeReader::at_eof() const { return handle_->eof; }

}  // namespace hutch
