#include "sandbox/spawner_protocol.h"

#include <sys/socket.h>

#include <cstring>

namespace hutch {
namespace {

// One message: the payload in `data`, room for every fd a request may carry in `control`.
struct Message {
  iovec data{};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kSpawnMaxFds)] = {};
  msghdr header{};

  Message(void *payload, size_t size) : data{payload, size} {
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
  }
};

}  // namespace

Status send_spawn_request(int socket, const SpawnRequest &request, std::span<const int> fds) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, request);
  if (buffer.size() > kMaxSpawnMessageBytes)
    return fail(make_error("spawn request of " + std::to_string(buffer.size()) + " bytes is too large"));
  Message message(buffer.data(), buffer.size());
  message.header.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr *header = CMSG_FIRSTHDR(&message.header);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  for (;;) {
    ssize_t sent = ::sendmsg(socket, &message.header, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0) return fail(errno_error("send the spawn request"));
    return {};
  }
}

Result<std::optional<std::pair<SpawnRequest, std::vector<UniqueFd>>>> receive_spawn_request(int socket) {
  std::vector<char> buffer(kMaxSpawnMessageBytes);
  Message message(buffer.data(), buffer.size());
  ssize_t received;
  do {
    received = ::recvmsg(socket, &message.header, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received < 0) return fail(errno_error("receive a spawn request"));
  if (received == 0) return std::optional<std::pair<SpawnRequest, std::vector<UniqueFd>>>{};
  std::vector<UniqueFd> fds;
  for (cmsghdr *header = CMSG_FIRSTHDR(&message.header); header != nullptr;
       header = CMSG_NXTHDR(&message.header, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  if (message.header.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return fail(make_error("spawn request truncated"));
  try {
    msgpack::object_handle handle = msgpack::unpack(buffer.data(), static_cast<size_t>(received));
    SpawnRequest request = handle.get().as<SpawnRequest>();
    return std::optional{std::pair{std::move(request), std::move(fds)}};
  } catch (const std::exception &error) {
    return fail(make_error(std::string("spawn request is not valid msgpack: ") + error.what()));
  }
}

Status send_spawn_reply(int socket, const SpawnReply &reply) {
  for (;;) {
    ssize_t sent = ::send(socket, &reply, sizeof reply, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent != sizeof reply) return fail(errno_error("send the spawn reply"));
    return {};
  }
}

Result<SpawnReply> receive_spawn_reply(int socket) {
  SpawnReply reply{};
  for (;;) {
    ssize_t received = ::recv(socket, &reply, sizeof reply, MSG_DONTWAIT);
    if (received < 0 && errno == EINTR) continue;
    if (received < 0) return fail(errno_error("receive the spawn reply"));
    if (received == 0) return fail(errno_error(ECONNRESET, "the spawner closed its socket"));
    if (received != sizeof reply) return fail(make_error("the spawner's reply was cut short"));
    return reply;
  }
}

}  // namespace hutch
