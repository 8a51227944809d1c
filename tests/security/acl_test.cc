// Roles enforced by Redis itself (issue 10): a redis-server of the test's own loads the ACL file `hutch acl`
// prints, hutchd runs as the supervisor user, and the CLI runs every verb as each role, as a deployment
// would. What a role may not do, Redis refuses (NOPERM); what it may, works end to end.
#include <fstream>

#include "gmock/gmock.h"
#include "tests/security/security_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using testing::Not;

const std::vector<std::string> kRoles = {"submitter", "operator", "supervisor", "viewer"};

class AclTest : public SecurityTest {
 protected:
  bool own_redis_server() override { return true; }

  void configure_redis_server(RedisServer &server) override {
    scratch_ = std::make_unique<TempDir>("/tmp/hutch-acl");
    const std::string passwords = scratch_->path() + "/passwords";
    CommandResult made = run_command({hutch_cli_path(), "acl", "--password-dir", passwords, "--data-prefix", "data:"}, 30s);
    ASSERT_EQ(made.exit_code(), 0) << made.out << made.err;
    for (const std::string &role : kRoles) {
      std::string password = read_file_text(passwords + "/" + role);
      ASSERT_EQ(password.size(), 65u) << role << ": 64 hex digits and a newline";
      passwords_[role] = password.substr(0, 64);
      EXPECT_THAT(made.out, Not(HasSubstr(passwords_[role]))) << "the ACL file holds hashes, never passwords";
      EXPECT_THAT(made.err, HasSubstr("hutch-" + role + ": password in " + passwords + "/" + role + " (new)"));
    }
    // The administrator a deployment adds for itself: the fixture flushes and inspects through it.
    const std::string acl_file = scratch_->path() + "/users.acl";
    std::ofstream(acl_file) << made.out << "user admin on >admin-password ~* &* +@all\n";
    acl_text_ = made.out;
    server.set_acl_file(acl_file, "admin", "admin-password");
  }

  HutchdOptions hutchd_options() override {
    HutchdOptions options = SecurityTest::hutchd_options();
    options.redis_url = url_of("supervisor");
    return options;
  }

  std::string url_of(const std::string &role) { return redis_server().url_as("hutch-" + role, passwords_.at(role)); }

  CommandResult hutch_as(const std::string &role, std::vector<std::string> args) {
    return run_hutch(std::move(args), url_of(role));
  }
  std::string ok_as(const std::string &role, const std::vector<std::string> &args) {
    CommandResult result = hutch_as(role, args);
    EXPECT_EQ(result.exit_code(), 0) << role << ": hutch " << testing::PrintToString(args) << "\n" << result.out << result.err;
    return result.out;
  }
  // Redis itself says no: exit 1 and its NOPERM error, nothing else.
  void refused_as(const std::string &role, const std::vector<std::string> &args) {
    CommandResult result = hutch_as(role, args);
    EXPECT_EQ(result.exit_code(), 1) << role << ": hutch " << testing::PrintToString(args) << "\n" << result.out << result.err;
    EXPECT_THAT(result.err, HasSubstr("NOPERM")) << role << ": hutch " << testing::PrintToString(args);
  }
  std::string file(const std::string &name, const std::string &content) { return write_file_in(*scratch_, name, content); }

  std::unique_ptr<TempDir> scratch_;
  std::map<std::string, std::string> passwords_;
  std::string acl_text_;
};

void expect_noperm(RedisClient &client, const std::vector<std::string> &command) {
  Reply reply = client.command(command);
  EXPECT_TRUE(reply.is_error() && reply.text.starts_with("NOPERM"))
      << testing::PrintToString(command) << " answered " << reply.describe();
}

TEST_F(AclTest, TheFileIsWhatRedisLoaded) {
  for (const std::string &role : kRoles) {
    Reply user = redis().command({"ACL", "GETUSER", "hutch-" + role});
    ASSERT_EQ(user.type, Reply::Type::kArray) << role << ": " << user.describe();
  }
  Reply anonymous = RedisClient("redis://127.0.0.1:" + url_of("viewer").substr(url_of("viewer").rfind(':') + 1))
                        .command({"GET", "hutch:jobs"});
  EXPECT_TRUE(anonymous.is_error() && anonymous.text.starts_with("NOAUTH")) << "the default user is off: "
                                                                            << anonymous.describe();
  EXPECT_THAT(acl_text_, Not(HasSubstr("+@all")));
}

// The brief's first check: a submitter that writes a definition or a record is refused by Redis.
TEST_F(AclTest, ASubmitterCannotWriteDefinitionsRecordsOrCode) {
  HUTCH_REQUIRE_ROOT();
  RedisClient submitter(url_of("submitter"));
  expect_noperm(submitter, {"HSET", "hutch:fn:evil", "entry", "sh -c 'cat /etc/shadow'"});
  expect_noperm(submitter, {"HSET", "hutch:exec:1-0", "status", "succeeded"});
  expect_noperm(submitter, {"SET", "hutch:blob:" + std::string(64, 'a'), "code"});
  expect_noperm(submitter, {"GET", "hutch:blob:" + std::string(64, 'a')});
  expect_noperm(submitter, {"SET", "hutch:out:1-0/result.bin", "forged"});
  expect_noperm(submitter, {"SADD", "hutch:fns", "evil"});
  expect_noperm(submitter, {"ZADD", "hutch:execs", "1", "1-0"});
  expect_noperm(submitter, {"XACK", "hutch:jobs", "hutchd", "1-0"});
  expect_noperm(submitter, {"XGROUP", "DESTROY", "hutch:jobs", "hutchd"});
  expect_noperm(submitter, {"DEL", "hutch:jobs"});
  expect_noperm(submitter, {"PUBLISH", "hutch:events", "1-0 succeeded"});
  expect_noperm(submitter, {"EVAL", "return redis.call('HSET', 'hutch:fn:evil', 'entry', 'x')", "0"});
  expect_noperm(submitter, {"SET", "elsewhere:key", "x"});
  expect_noperm(submitter, {"FLUSHALL"});
  expect_noperm(submitter, {"CONFIG", "GET", "requirepass"});
  expect_noperm(submitter, {"KEYS", "*"});
  EXPECT_EQ(redis().command({"EXISTS", "hutch:fn:evil", "hutch:exec:1-0", "hutch:out:1-0/result.bin"}).integer, 0);

  // What it is for: enqueue, upload, keep its own data.
  Reply id = submitter.command({"XADD", "hutch:jobs", "*", "function", "hello"});
  ASSERT_EQ(id.type, Reply::Type::kString) << id.describe();
  EXPECT_EQ(redis().wait_for_final(id.text, 30s)["status"], "succeeded");
  EXPECT_EQ(submitter.command({"SET", "hutch:upload:abc", "x"}).text, "OK");
  EXPECT_EQ(submitter.command({"SET", "data:mine", "x"}).text, "OK");
  expect_hutchd_still_serves();
}

TEST_F(AclTest, TheSupervisorCannotWriteDefinitionsCodeOrUploads) {
  HUTCH_REQUIRE_ROOT();
  RedisClient supervisor(url_of("supervisor"));
  expect_noperm(supervisor, {"HSET", "hutch:fn:evil", "entry", "x"});
  expect_noperm(supervisor, {"HINCRBY", "hutch:fn:evil", "executions", "1"});
  expect_noperm(supervisor, {"SET", "hutch:blob:" + std::string(64, 'a'), "code"});
  expect_noperm(supervisor, {"SET", "hutch:upload:abc", "x"});
  expect_noperm(supervisor, {"SADD", "hutch:fns", "evil"});
  expect_noperm(supervisor, {"DEL", "hutch:exec:1-0"});
  expect_noperm(supervisor, {"FLUSHALL"});
  expect_noperm(supervisor, {"ACL", "LIST"});
  expect_noperm(supervisor, {"EVAL", "return redis.call('HSET', KEYS[1], 'entry', 'x')", "1", "hutch:fn:evil"});
  EXPECT_EQ(redis().command({"EXISTS", "hutch:fn:evil", "hutch:upload:abc"}).integer, 0);
  expect_hutchd_still_serves();
}

// Least privilege end to end: an operator makes a function and a package, a submitter runs them through
// the CLI with files in and out, hutchd runs them as the supervisor, a viewer reads it all.
TEST_F(AclTest, TheWholeFlowRunsWithLeastPrivilege) {
  HUTCH_REQUIRE_ROOT();
  const std::string script = "for f in \"$HUTCH_IN\"/*; do tr a-z A-Z < \"$f\" > \"$HUTCH_OUT/${f##*/}\"; done; echo shouted\n";
  ok_as("operator", {"function", "create", "shout", "--entry", "sh run.sh", "--file", file("run.sh", script)});
  file("pkg/run.sh", "echo \"from the package: $HUTCH_FUNCTION\"\n");
  file("pkg/hutch.json", R"({"name":"tools","entry":"sh run.sh","functions":{"echo":{"description":"echoes"}}})");
  ok_as("operator", {"package", "push", scratch_->path() + "/pkg"});

  CommandResult submitted = hutch_as("submitter", {"submit", "shout", "--file", "in.txt=" + file("in.txt", "quiet"), "--wait"});
  ASSERT_EQ(submitted.exit_code(), 0) << submitted.out << submitted.err;
  EXPECT_THAT(submitted.out, HasSubstr("shouted"));
  std::vector<std::string> ids = execution_ids_in(submitted.out);
  ASSERT_FALSE(ids.empty()) << submitted.out;
  const std::string id = ids.front();
  EXPECT_EQ(ok_as("submitter", {"get", "hutch:out:" + id + "/in.txt"}), "QUIET");
  EXPECT_THAT(ok_as("submitter", {"status", id}), HasSubstr("status: succeeded"));
  EXPECT_THAT(ok_as("submitter", {"logs", id}), HasSubstr("shouted"));
  EXPECT_THAT(ok_as("submitter", {"logs", id, "-f"}), HasSubstr("shouted"));
  EXPECT_THAT(ok_as("submitter", {"ls"}), HasSubstr(id));

  // Files under the deployment's data prefix, both ways.
  EXPECT_THAT(ok_as("submitter", {"put", "data:in", file("data.txt", "data")}), HasSubstr("data:in: 4 bytes"));
  Reply chained = RedisClient(url_of("submitter"))
                      .command({"XADD", "hutch:jobs", "*", "function", "shout", "files", R"({"d.txt":"data:in"})", "out",
                                "data:results"});
  ASSERT_EQ(chained.type, Reply::Type::kString) << chained.describe();
  EXPECT_EQ(redis().wait_for_final(chained.text, 30s)["status"], "succeeded");
  EXPECT_EQ(ok_as("viewer", {"get", "data:results/d.txt"}), "DATA");

  EXPECT_THAT(ok_as("submitter", {"submit", "tools.echo", "--wait"}), HasSubstr("from the package: echo"));

  // The viewer reads everything, and the count hutchd keeps (it may not write the definition itself).
  EXPECT_THAT(ok_as("viewer", {"status", id, "--json"}), HasSubstr("\"status\":\"succeeded\""));
  EXPECT_THAT(ok_as("viewer", {"logs", id}), HasSubstr("shouted"));
  EXPECT_THAT(ok_as("viewer", {"function", "show", "shout"}), HasSubstr("executions:  2"));
  EXPECT_THAT(ok_as("viewer", {"package", "show", "tools"}), HasSubstr("tools.echo"));
  expect_hutchd_still_serves();
}

// Every verb of the CLI under each role: what the role is for works, the rest Redis refuses.
TEST_F(AclTest, EveryVerbUnderEachRole) {
  HUTCH_REQUIRE_ROOT();
  ok_as("operator", {"function", "create", "f", "--entry", "sh run.sh", "--file", file("run.sh", "echo ran\n")});
  file("pkg/run.sh", "echo pkg\n");
  file("pkg/hutch.json", R"({"name":"p","entry":"sh run.sh","functions":{"one":{}}})");
  ok_as("operator", {"package", "push", scratch_->path() + "/pkg"});
  const std::string sha = redis().hgetall("hutch:fn:f")["package_sha256"];
  std::string id = execution_ids_in(ok_as("submitter", {"submit", "f", "--wait"})).at(0);
  std::string local = file("local.txt", "bytes");

  for (std::string role : {"submitter", "operator", "viewer"}) {
    SCOPED_TRACE(role);
    EXPECT_THAT(ok_as(role, {"status", id}), HasSubstr("succeeded"));
    EXPECT_THAT(ok_as(role, {"ls"}), HasSubstr(id));
    EXPECT_THAT(ok_as(role, {"logs", id}), HasSubstr("ran"));
    EXPECT_THAT(ok_as(role, {"function", "list"}), HasSubstr("p.one"));
    EXPECT_THAT(ok_as(role, {"function", "show", "f"}), HasSubstr("executions:  1"));
    EXPECT_THAT(ok_as(role, {"package", "list"}), HasSubstr("p "));
    EXPECT_THAT(ok_as(role, {"package", "show", "p"}), HasSubstr("p.one"));
  }
  // Jobs and uploads: the submitter's.
  ok_as("submitter", {"put", "hutch:upload:mine", local});
  for (std::string role : {"operator", "viewer"}) {
    SCOPED_TRACE(role);
    refused_as(role, {"submit", "f"});
    refused_as(role, {"submit", "f", "--file", local});
    refused_as(role, {"put", "data:x", local});
    EXPECT_EQ(ok_as(role, {"get", "hutch:upload:mine"}), "bytes") << "uploads are readable to every reader";
  }
  refused_as("submitter", {"put", "hutch:fn:f", local});
  refused_as("submitter", {"put", "somewhere:else", local});
  // Code: the operator's.
  for (std::string role : {"submitter", "viewer"}) {
    SCOPED_TRACE(role);
    refused_as(role, {"get", "hutch:blob:" + sha});
    refused_as(role, {"function", "create", "g", "--entry", "sh run.sh", "--file", file("run.sh", "echo\n")});
    refused_as(role, {"function", "update", "f", "--timeout", "3"});
    refused_as(role, {"function", "delete", "f"});
    refused_as(role, {"package", "push", scratch_->path() + "/pkg"});
    refused_as(role, {"package", "delete", "p"});
  }
  EXPECT_FALSE(ok_as("operator", {"get", "hutch:blob:" + sha}).empty());
  ok_as("operator", {"function", "update", "f", "--timeout", "3"});
  ok_as("operator", {"function", "delete", "f"});
  ok_as("operator", {"package", "delete", "p"});
  EXPECT_EQ(redis().command({"EXISTS", "hutch:fn:f", "hutch:pkg:p", "hutch:fn:p.one"}).integer, 0);
  expect_hutchd_still_serves();
}

// Under an ACL a job's input and output keys are also checked by Redis against hutchd's user: a key outside
// hutch's own and the data prefixes is refused with a sentence, and the job still ends with a record.
TEST_F(AclTest, KeysOutsideTheRolesAreRefusedWithARecord) {
  HUTCH_REQUIRE_ROOT();
  ASSERT_EQ(redis().command({"SET", "secret:key", "private"}).text, "OK");
  Fields read = run_job({{"function", "file_copier"}, {"files", R"({"loot.txt":"secret:key"})"}});
  EXPECT_EQ(read["status"], "rejected") << describe_fields(read);
  EXPECT_THAT(read["error"], HasSubstr("files: Redis does not let hutchd read these keys (NOPERM"));

  Fields written = run_job({{"function", "file_copier"}, {"out", "elsewhere:1"},
                            {"input", R"({"extra":[{"name":"r.bin","bytes":1}]})"}});
  EXPECT_EQ(written["status"], "failed") << describe_fields(written);
  EXPECT_THAT(written["error"], HasSubstr("output files: Redis refused to store them under 'elsewhere:1/'"));
  EXPECT_EQ(written.count("files_out"), 0u);
  EXPECT_EQ(redis().command({"EXISTS", "elsewhere:1/r.bin"}).integer, 0);
  expect_hutchd_still_serves();
}

// `redis://user:password@host` authenticates as the user; a wrong password is said, never shown.
TEST_F(AclTest, AWrongPasswordIsRefusedAndNeverPrinted) {
  const std::string wrong = "not-the-password-" + std::to_string(::getpid());
  CommandResult cli = run_command({hutch_cli_path(), "--redis", redis_server().url_as("hutch-viewer", wrong), "ls"}, 30s);
  EXPECT_EQ(cli.exit_code(), 2) << cli.out << cli.err;
  EXPECT_THAT(cli.err, HasSubstr("as user hutch-viewer"));
  EXPECT_THAT(cli.err, HasSubstr("WRONGPASS"));
  EXPECT_THAT(cli.out + cli.err, Not(HasSubstr(wrong)));

  HutchdOptions options = hutchd_options();
  options.redis_url = redis_server().url_as("hutch-supervisor", wrong);
  options.consumer += "-wrong";
  HutchdProcess refused(options);
  EXPECT_FALSE(refused.start(3s)) << "a hutchd Redis refuses never reads the queue";
  EXPECT_TRUE(refused.wait_for_log("refused AUTH as user 'hutch-supervisor': WRONGPASS", 5s)) << refused.log_text();
  EXPECT_THAT(refused.log_text(), Not(HasSubstr(wrong)));
  ASSERT_TRUE(refused.stop(SIGTERM, 20s).has_value());
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
