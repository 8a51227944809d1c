// The control plane's stored functions as an attacker writes them (issue 10, findings 1 and 2): a
// `hutch:fn:<name>` hash set by hand with redis-cli. Each value is hostile: a checksum that is a path, an
// entry that leads through `/usr/..` to a FIFO or to a program outside /usr, fields with control characters
// or of any size. hutchd must refuse each as the job's record (`rejected`, a sentence naming the key, the
// field and the rule), never mount anything of the host, never block its loop, and serve the next job.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "gmock/gmock.h"
#include "tests/security/control_plane.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

namespace fs = std::filesystem;
using testing::EndsWith;
using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;

constexpr const char kRecreate[] = "; recreate the function with hutch function update";

const std::vector<ArchiveFile> kEchoPackage = {{"run.sh", "#!/bin/sh\necho ran\n", 0, true}};

// A directory of the host's /usr that the sandbox shows, for files the test plants there (a FIFO, a
// private directory, a link out of /usr), removed with everything in it whatever the test does.
class UsrScratch {
 public:
  UsrScratch() {
    std::error_code error;
    if (!fs::exists(kParent)) made_parent_ = fs::create_directories(kParent, error);
    path_ = std::string(kParent) + "/hutch-test-cp-" + std::to_string(::getpid());
    fs::remove_all(path_, error);
    made_ = fs::create_directory(path_, error) && ::chmod(path_.c_str(), 0755) == 0;
  }
  ~UsrScratch() {
    std::error_code error;
    fs::remove_all(path_, error);
    if (made_parent_) ::rmdir(kParent);
  }
  UsrScratch(const UsrScratch &) = delete;
  UsrScratch &operator=(const UsrScratch &) = delete;
  bool made() const { return made_; }
  const std::string &path() const { return path_; }

 private:
  static constexpr const char *kParent = "/usr/local/libexec";
  std::string path_;
  bool made_ = false;
  bool made_parent_ = false;
};

std::string padded_to_64(std::string path) {
  while (path.size() < 64) path = "./" + path;
  return path.size() > 64 ? path.substr(path.size() - 64) : path;
}

// Finding 1: a checksum that is a path made hutchd mount that host directory at /function.
TEST_F(ControlPlaneTest, AChecksumThatIsNotASha256NeverMountsAnything) {
  HUTCH_REQUIRE_ROOT();
  const std::string victim = scratch() + "/victim";
  fs::create_directories(victim);
  std::ofstream(victim + "/host-secret") << "the host's secret\n";
  const std::string code = put_blob(make_archive(kEchoPackage));
  const std::string hex63 = code.substr(0, 63);
  // Each is 64 bytes long, the only thing hutchd used to check; the first two lead out of the cache.
  const std::vector<std::string> hostile = {padded_to_64("../../../../../etc"), padded_to_64("../victim"),
                                            std::string(64, 'A'), hex63 + std::string(1, '\0'), hex63 + "\n",
                                            hex63 + "g"};
  for (size_t i = 0; i < hostile.size(); ++i) {
    const std::string name = "sha-" + std::to_string(i);
    put_definition(name, definition(name, "/bin/cat /function/host-secret /function/passwd", hostile[i], 100));
    std::string error = expect_rejected(name);
    std::string shown;
    for (unsigned char c : hostile[i]) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\x%02x", c);
      shown += c >= 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c)) : std::string(escaped);
    }
    EXPECT_EQ(error, "function '" + name + "': hutch:fn:" + name + ": package_sha256 '" + shown +
                         "' is not a SHA-256 (64 lowercase hex digits)" + kRecreate);
  }
  // Nothing outside the cache was touched, nothing was unpacked, and the victim is as it was.
  EXPECT_EQ(cache_names(), std::vector<std::string>{});
  std::vector<std::string> victim_files;
  for (const auto &entry : fs::directory_iterator(victim)) victim_files.push_back(entry.path().filename().string());
  EXPECT_EQ(victim_files, std::vector<std::string>{"host-secret"});
  std::vector<std::string> scratch_files;
  for (const auto &entry : fs::directory_iterator(scratch())) scratch_files.push_back(entry.path().filename().string());
  std::sort(scratch_files.begin(), scratch_files.end());
  EXPECT_EQ(scratch_files, (std::vector<std::string>{"cache", "victim"}));
  expect_hutchd_still_serves();
}

// Finding 2: an entry through /usr/.. to a FIFO was opened, blocking, on hutchd's loop. While the hostile
// job is handled, a hello job enqueued after it must still finish.
TEST_F(ControlPlaneTest, AnEntryLeadingToAFifoIsRefusedAndTheLoopNeverWaits) {
  HUTCH_REQUIRE_ROOT();
  UsrScratch usr;
  ASSERT_TRUE(usr.made());
  const std::string outside_path = scratch() + "/fifo", inside_path = usr.path() + "/fifo";
  std::optional<Fifo> outside(std::in_place, outside_path);
  std::optional<Fifo> inside(std::in_place, inside_path);  // under /usr: only the regular-file check stops it
  ASSERT_TRUE(outside->made() && inside->made());
  const std::string code = put_blob(make_archive(kEchoPackage));
  put_definition("fifo-out", definition("fifo-out", "/usr/.." + outside_path, code, 100));
  put_definition("fifo-in", definition("fifo-in", inside_path, code, 100));

  std::string out_id = redis().xadd_job({{"function", "fifo-out"}});
  std::string in_id = redis().xadd_job({{"function", "fifo-in"}});
  Fields hello = run_job({{"function", "hello"}}, 30s);
  EXPECT_EQ(field_or_empty(hello, "status"), "succeeded") << "the loop waited on a FIFO: " << describe_fields(hello);
  // Opened for writing once: a hutchd that was waiting on one goes on, so the rest of the test ends in time.
  outside.reset();
  inside.reset();

  Fields out = redis().wait_for_final(out_id, 30s);
  EXPECT_EQ(field_or_empty(out, "status"), "rejected") << describe_fields(out);
  EXPECT_EQ(field_or_empty(out, "error"),
            "function 'fifo-out': hutch:fn:fifo-out: entry '/usr/.." + outside_path + "': '/usr/.." + outside_path +
                "' leads to '" + outside_path + "', outside /usr; the program must be a file of the package or a "
                "program under /usr" + kRecreate);
  Fields in = redis().wait_for_final(in_id, 30s);
  EXPECT_EQ(field_or_empty(in, "status"), "rejected") << describe_fields(in);
  EXPECT_EQ(field_or_empty(in, "error"), "function 'fifo-in': hutch:fn:fifo-in: entry '" + inside_path + "': '" +
                                             inside_path + "' is a FIFO, not a regular file" + kRecreate);
  expect_hutchd_still_serves();
}

// Finding 2: a stored entry could name any program hutchd (root) can open; the job then ran it by its fd.
// Only a file of the package or a program under /usr that the sandbox's users can reach may run, found the
// way the sandbox sees /usr (links followed as there).
TEST_F(ControlPlaneTest, AnEntryOutsideUsrOrNotAProgramIsRefused) {
  HUTCH_REQUIRE_ROOT();
  UsrScratch usr;
  ASSERT_TRUE(usr.made());
  const std::string program = scratch() + "/program";
  fs::copy_file("/usr/bin/true", program);
  ::chmod(program.c_str(), 0755);
  fs::create_symlink(program, usr.path() + "/link-out");
  fs::create_directory(usr.path() + "/private");
  fs::copy_file("/usr/bin/true", usr.path() + "/private/true");
  ::chmod((usr.path() + "/private/true").c_str(), 0755);
  ::chmod((usr.path() + "/private").c_str(), 0700);
  fs::copy_file("/usr/bin/true", usr.path() + "/root-only");
  ::chmod((usr.path() + "/root-only").c_str(), 0700);
  const std::string code = put_blob(make_archive(kEchoPackage));

  struct Case {
    std::string entry;
    std::string refusal;  // after "entry '<entry>': '<first word>' "
  };
  const std::vector<Case> cases = {
      {program, "is outside /usr; the program must be a file of the package or a program under /usr"},
      {"/usr/.." + program, "leads to '" + program + "', outside /usr; the program must be a file of the package or a program under /usr"},
      {"/root/.bashrc", "is outside /usr; the program must be a file of the package or a program under /usr"},
      {usr.path() + "/link-out", "leads to '" + program + "', outside /usr; the program must be a file of the package or a program under /usr"},
      {"/usr/../dev/null", "leads to '/dev/null', outside /usr; the program must be a file of the package or a program under /usr"},
      {"/usr/lib", "is a directory, not a regular file"},
      {usr.path() + "/private/true", "cannot be reached by the sandbox's users: '" + usr.path() + "/private' has mode 0700"},
      {usr.path() + "/root-only", "is not executable by the sandbox's users (mode 0700)"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string name = "entry-" + std::to_string(i);
    put_definition(name, definition(name, cases[i].entry, code, 100));
    std::string first_word = cases[i].entry;
    EXPECT_EQ(expect_rejected(name), "function '" + name + "': hutch:fn:" + name + ": entry '" + cases[i].entry +
                                         "': '" + first_word + "' " + cases[i].refusal + kRecreate);
  }
  // The controls: programs the sandbox does see, reached through relative links and /etc/alternatives as
  // its skeleton shows them (awk -> /etc/alternatives/awk -> /usr/bin/mawk).
  put_definition("via-alternatives", definition("via-alternatives", "awk 'BEGIN { print 6 * 7 }'", code, 100));
  Fields record = run_job({{"function", "via-alternatives"}}, 30s);
  EXPECT_EQ(field_or_empty(record, "status"), "succeeded") << describe_fields(record);
  EXPECT_EQ(logs_of(record["id"]), "42\n");
  put_definition("via-bin", definition("via-bin", "/bin/sh run.sh", code, 100));
  record = run_job({{"function", "via-bin"}}, 30s);
  EXPECT_EQ(field_or_empty(record, "status"), "succeeded") << describe_fields(record);
  EXPECT_EQ(logs_of(record["id"]), "ran\n");
  expect_hutchd_still_serves();
}

// Every field of a definition has a rule, checked by hutchd as the CLI checks it, sizes before bytes.
TEST_F(ControlPlaneTest, EveryFieldOfAStoredDefinitionIsCheckedAgainstItsRule) {
  HUTCH_REQUIRE_ROOT();
  const std::string code = put_blob(make_archive(kEchoPackage));
  auto with = [&](const std::string &name, const std::string &field, const std::string &value) {
    JobFields fields = definition(name, "run.sh", code, 100);
    bool replaced = false;
    for (auto &[key, old] : fields) {
      if (key == field) {
        old = value;
        replaced = true;
      }
    }
    if (!replaced) fields.emplace_back(field, value);
    put_definition(name, fields);
  };
  const std::string forged = "run.sh\n2026-01-01T00:00:00.000Z ERROR forged by the definition";
  struct Case {
    std::string name, field, value, refusal;
  };
  const std::vector<Case> cases = {
      {"f-name", "name", "other", "name 'other' is not the key's name 'f-name'"},
      {"f-entry", "entry", forged,
       "entry 'run.sh\\x0a2026-01-01T00:00:00.000Z ERROR forged by the definition' holds control characters; "
       "use printable text"},
      {"f-long-entry", "entry", "run.sh " + std::string(5000, 'x'),
       "entry is 5007 bytes; no field of a definition is longer than 4096"},
      {"f-description", "description", std::string(2000, 'd'), "description is 2000 bytes; at most 1024"},
      {"f-bytes", "package_bytes", "-1", "package_bytes '-1' is not a number of bytes from 1 to 67108864 (64 MiB)"},
      {"f-big-bytes", "package_bytes", "99999999999", "package_bytes '99999999999' is not a number of bytes from 1 to 67108864 (64 MiB)"},
      {"f-time", "created_at", "yesterday", "created_at 'yesterday' is not a UTC time like 2026-11-21T23:30:47.123Z"},
      {"f-function", "function", "a b",
       "function 'a b' is not a function name; use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"},
      {"f-package", "package", "../x",
       "package '../x' is not a package name; use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"},
      {"f-executions", "executions", "lots", "executions 'lots' is not a count"},
      {"f-timeout", "timeout", "999", "timeout: '999' is out of range; use seconds > 0 and <= 300, e.g. 5 or 2.5"},
      {"f-unknown", "evil", "1",
       "unknown field 'evil'; a definition has name, entry, package_sha256, package_bytes, description, package, "
       "function, timeout, memory, cpu, created_at, updated_at, executions"},
  };
  for (const Case &c : cases) {
    with(c.name, c.field, c.value);
    EXPECT_EQ(expect_rejected(c.name), "function '" + c.name + "': hutch:fn:" + c.name + ": " + c.refusal + kRecreate);
  }
  // Sizes before bytes: a field of 10 MiB, or a thousand fields, is refused from their lengths alone.
  with("f-huge", "description", std::string(10 << 20, 'x'));
  EXPECT_EQ(expect_rejected("f-huge"), std::string("function 'f-huge': hutch:fn:f-huge: description is 10485760 bytes; "
                                                   "no field of a definition is longer than 4096") + kRecreate);
  JobFields many = definition("f-many", "run.sh", code, 100);
  for (int i = 0; i < 1000; ++i) many.emplace_back("x" + std::to_string(i), "1");
  put_definition("f-many", many);
  EXPECT_EQ(expect_rejected("f-many"),
            std::string("function 'f-many': hutch:fn:f-many has 1008 fields; a definition has at most 16") + kRecreate);
  redis().command({"SET", "hutch:fn:f-string", "not a hash"});
  EXPECT_EQ(expect_rejected("f-string"),
            std::string("function 'f-string': hutch:fn:f-string is a string, not a hash") + kRecreate);
  JobFields no_entry = definition("f-no-entry", "run.sh", code, 100);
  no_entry.erase(no_entry.begin() + 1);
  put_definition("f-no-entry", no_entry);
  EXPECT_EQ(expect_rejected("f-no-entry"),
            std::string("function 'f-no-entry': hutch:fn:f-no-entry: entry is missing") + kRecreate);

  // The newline in the entry never became a line of hutchd's own log.
  EXPECT_THAT(hutchd().log_text(), Not(HasSubstr("\n2026-01-01T00:00:00.000Z ERROR forged")));
  expect_hutchd_still_serves();
}

// The definition is read when the job starts; hutchd writes to the key once more at the end (the count of
// executions). Whatever the key has become by then must not keep the job's final record from being written.
TEST_F(ControlPlaneTest, ADefinitionSpoiledWhileItsJobRunsNeverBlocksTheRecord) {
  HUTCH_REQUIRE_ROOT();
  put_function("spoiled", "run.sh", {{"run.sh", "#!/bin/sh\nsleep 2\necho done\n", 0, true}});
  const std::string id = redis().xadd_job({{"function", "spoiled"}, {"timeout", "30"}});
  ASSERT_EQ(redis().wait_for_status(id, {"running"}, 30s)["status"], "running");
  redis().command({"DEL", "hutch:fn:spoiled"});
  ASSERT_EQ(redis().command({"SET", "hutch:fn:spoiled", "no longer a hash"}).text, "OK");
  Fields record = redis().wait_for_final(id, 30s);
  EXPECT_EQ(field_or_empty(record, "status"), "succeeded") << describe_fields(record);
  EXPECT_EQ(redis().command({"GET", "hutch:fn:spoiled"}).text, "no longer a hash");
  expect_hutchd_still_serves();
}

// The sentence's advice works: the CLI replaces a definition it could not read, and the function runs.
TEST_F(ControlPlaneTest, AnUnusableDefinitionIsReplacedWithTheCli) {
  HUTCH_REQUIRE_ROOT();
  put_definition("broken", definition("broken", "run.sh", padded_to_64("../../../../../etc"), 100));
  EXPECT_THAT(expect_rejected("broken"), EndsWith(kRecreate));
  const std::string script = scratch() + "/run.sh";
  std::ofstream(script) << "#!/bin/sh\necho repaired\n";
  ::chmod(script.c_str(), 0755);
  CommandResult updated = run_command({hutch_cli_path(), "--redis", redis_server().url(), "function", "update",
                                       "broken", "--entry", "run.sh", "--file", script},
                                      60s);
  ASSERT_EQ(updated.exit_code(), 0) << updated.out << updated.err;
  Fields record = run_job({{"function", "broken"}}, 30s);
  EXPECT_EQ(field_or_empty(record, "status"), "succeeded") << describe_fields(record);
  EXPECT_EQ(logs_of(record["id"]), "repaired\n");
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
