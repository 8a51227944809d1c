// The fixture of the control plane's adversarial suite (issue 10): an attacker who can write Redis keys
// with redis-cli, no CLI checks in the way, writes `hutch:fn:<name>` and `hutch:blob:<sha256>` by hand.
// The keys are written here exactly so (HSET, SET through the test's own Redis client); the archives are
// made here with libarchive, never with hutch's packaging code, so a bug there cannot hide itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/security/security_test.h"

namespace hutch::test {

// One file of a hand-made package: `content`, then `zero_bytes` zeros (streamed, never held in memory).
struct ArchiveFile {
  std::string path;
  std::string content;
  uint64_t zero_bytes = 0;
  bool executable = false;
};

// A gzip'd tar of `files`, as any tar tool would make it (not hutch's canonical form: hutchd must not care).
std::string make_archive(const std::vector<ArchiveFile> &files);

// hutchd's peak resident memory (VmHWM of /proc/<pid>/status), in bytes; 0 when unreadable.
uint64_t peak_memory_bytes(pid_t pid);

// A FIFO the test made; whatever happens, the destructor opens it for writing once (so a reader blocked on
// it, a frozen hutchd, wakes up) and removes it.
class Fifo {
 public:
  explicit Fifo(std::string path);
  ~Fifo();
  Fifo(const Fifo &) = delete;
  Fifo &operator=(const Fifo &) = delete;
  bool made() const { return made_; }
  const std::string &path() const { return path_; }

 private:
  std::string path_;
  bool made_ = false;
};

class ControlPlaneTest : public SecurityTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  HutchdOptions hutchd_options() override;
  // --cache-size for this fixture's hutchd; "" leaves hutchd's default.
  virtual std::string cache_size() const { return ""; }

  const std::string &scratch() const { return scratch_; }
  std::string cache() const { return scratch_ + "/cache"; }

  // SET hutch:blob:<sha256 of archive> archive; returns the checksum.
  std::string put_blob(const std::string &archive);
  // What `hutch function create` would have written for these values, as field/value pairs to spoil.
  JobFields definition(const std::string &name, const std::string &entry, const std::string &sha256,
                       size_t package_bytes);
  // DEL + HSET hutch:fn:<name> with `fields`, SADD hutch:fns <name>.
  void put_definition(const std::string &name, const JobFields &fields);
  // A function whose package is `files` (stored as a blob) and whose entry is `entry`; returns the checksum.
  std::string put_function(const std::string &name, const std::string &entry, const std::vector<ArchiveFile> &files);

  // Runs a job of `function` and expects it `rejected` with no sandbox started; returns the error sentence.
  std::string expect_rejected(const std::string &function);
  // The checksum-named directories of the cache and the bytes of their files.
  std::map<std::string, uint64_t> cached_packages();
  // Every name in the cache directory, sorted.
  std::vector<std::string> cache_names();
  // The execution's log lines, one per line.
  std::string logs_of(const std::string &id);

 private:
  std::string scratch_;
};

}  // namespace hutch::test
