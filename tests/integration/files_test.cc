// Files in and out through Redis (docs/protocol.md, "Files"): keys named by the job's `files` appear
// read-only in $HUTCH_IN; what a successful function leaves in $HUTCH_OUT becomes keys <out>/<name>, listed
// in the record's `files_out`. Everything through a real hutchd and a real Redis, as a user would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/hutch_test.h"

namespace hutch::test {
namespace {

class FilesTest : public HutchTest {
 protected:
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    // Small caps so the tests can go past them cheaply.
    options.extra_args = {"--file-cap", "1M", "--job-files-cap", "3M"};
    return options;
  }

  void put(const std::string &key, const std::string &value) {
    ASSERT_EQ(redis().command({"SET", key, value}).text, "OK");
  }
  std::string get(const std::string &key) { return redis().command({"GET", key}).text; }

  static nlohmann::json json_field(const Fields &record, const std::string &field) {
    auto it = record.find(field);
    if (it == record.end()) return nullptr;
    return nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  }
};

// Binary-safe: NULs, newlines, every byte value, both ways.
std::string every_byte(size_t repeat) {
  std::string bytes;
  for (size_t r = 0; r < repeat; ++r)
    for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  return bytes + "\r\n\n";
}

TEST_F(FilesTest, InputFilesComeBackAsOutputKeysByteForByte) {
  HUTCH_REQUIRE_ROOT();
  std::string photo = every_byte(1000), notes = "line one\nline two\n";
  put("img:photo", photo);
  put("txt:notes", notes);
  Fields record = run_job({{"function", "file_copier"}, {"files", R"({"photo.jpg":"img:photo","notes.txt":"txt:notes"})"}});
  ASSERT_EQ(record["status"], "succeeded") << record["error"];
  const std::string &id = record["id"];
  EXPECT_EQ(get("hutch:out:" + id + "/photo.jpg"), photo);
  EXPECT_EQ(get("hutch:out:" + id + "/notes.txt"), notes);

  nlohmann::json files_out = json_field(record, "files_out");
  ASSERT_TRUE(files_out.is_array()) << record["files_out"];
  ASSERT_EQ(files_out.size(), 2u);
  EXPECT_EQ(files_out[0]["name"], "notes.txt");
  EXPECT_EQ(files_out[0]["key"], "hutch:out:" + id + "/notes.txt");
  EXPECT_EQ(files_out[0]["bytes"], notes.size());
  EXPECT_EQ(files_out[1]["name"], "photo.jpg");
  EXPECT_EQ(files_out[1]["bytes"], photo.size());
  EXPECT_EQ(record["files"], R"({"photo.jpg":"img:photo","notes.txt":"txt:notes"})") << "the record keeps what was asked";

  nlohmann::json output = json_field(record, "output");
  EXPECT_EQ(output["in_dir"], "/work/in");
  EXPECT_EQ(output["out_dir"], "/work/out");
}

TEST_F(FilesTest, InputFilesAreReadOnlyToTheFunction) {
  HUTCH_REQUIRE_ROOT();
  put("k:data", "data");
  Fields record = run_job({{"function", "file_copier"}, {"files", R"({"data.bin":"k:data"})"}});
  ASSERT_EQ(record["status"], "succeeded") << record["error"];
  nlohmann::json in = json_field(record, "output")["in"];
  ASSERT_EQ(in.size(), 1u) << record["output"];
  EXPECT_EQ(in[0]["bytes"], 4);
  // EACCES (13): not the function's file to write, chmod (EPERM, 1) or remove from a root-owned directory.
  EXPECT_EQ(in[0]["write_errno"], 13) << in.dump();
  EXPECT_EQ(in[0]["chmod_errno"], 1) << in.dump();
  EXPECT_EQ(in[0]["unlink_errno"], 13) << in.dump();
}

TEST_F(FilesTest, OutputGoesUnderTheJobsOutPrefix) {
  HUTCH_REQUIRE_ROOT();
  put("k:a", "alpha");
  Fields record = run_job({{"function", "file_copier"}, {"files", R"({"a.txt":"k:a"})"}, {"out", "results:42"}});
  ASSERT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(get("results:42/a.txt"), "alpha");
  EXPECT_EQ(redis().command({"EXISTS", "hutch:out:" + record["id"] + "/a.txt"}).integer, 0);
}

TEST_F(FilesTest, AFunctionWithoutInputsCanStillHandFilesBack) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "file_copier"}, {"input", R"({"extra":[{"name":"made.bin","bytes":1000}]})"}});
  ASSERT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(get("hutch:out:" + record["id"] + "/made.bin"), std::string(1000, 'x'));
}

TEST_F(FilesTest, NothingIsStoredWhenTheFunctionFails) {
  HUTCH_REQUIRE_ROOT();
  put("k:a", "alpha");
  Fields record = run_job({{"function", "file_copier"}, {"files", R"({"a.txt":"k:a"})"}, {"input", R"({"exit":3})"}});
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(record.count("files_out"), 0u);
  EXPECT_EQ(redis().command({"EXISTS", "hutch:out:" + record["id"] + "/a.txt"}).integer, 0);
}

TEST_F(FilesTest, AMissingKeyRejectsTheJobNamingTheKey) {
  HUTCH_REQUIRE_ROOT();
  put("k:here", "x");
  Fields record = run_job({{"function", "file_copier"}, {"files", R"({"a.txt":"k:here","b.txt":"k:nowhere"})"}});
  EXPECT_EQ(record["status"], "rejected");
  EXPECT_NE(record["error"].find("key 'k:nowhere' (file 'b.txt') does not exist"), std::string::npos) << record["error"];
  EXPECT_EQ(record.count("started_at"), 0u) << "a rejected job never ran";
}

TEST_F(FilesTest, AKeyThatIsNotAStringIsRejected) {
  HUTCH_REQUIRE_ROOT();
  redis().command({"HSET", "k:hash", "a", "b"});
  Fields record = run_job({{"function", "file_copier"}, {"files", R"({"a.txt":"k:hash"})"}});
  EXPECT_EQ(record["status"], "rejected");
  EXPECT_NE(record["error"].find("holds a hash, not a string"), std::string::npos) << record["error"];
}

TEST_F(FilesTest, InputsOverThePerFileOrPerJobCapAreRejected) {
  HUTCH_REQUIRE_ROOT();
  put("k:big", std::string((1 << 20) + 1, 'b'));
  Fields one = run_job({{"function", "file_copier"}, {"files", R"({"big.bin":"k:big"})"}});
  EXPECT_EQ(one["status"], "rejected");
  EXPECT_NE(one["error"].find("key 'k:big' (file 'big.bin') holds 1048577 bytes; at most 1 MiB per file"), std::string::npos)
      << one["error"];

  for (const char *key : {"k:1", "k:2", "k:3", "k:4"}) put(key, std::string(900 << 10, 'f'));
  Fields all = run_job({{"function", "file_copier"}, {"files", R"({"1":"k:1","2":"k:2","3":"k:3","4":"k:4"})"}});
  EXPECT_EQ(all["status"], "rejected");
  EXPECT_NE(all["error"].find("the input files hold 3686400 bytes together; at most 3 MiB per job"), std::string::npos)
      << all["error"];
}

TEST_F(FilesTest, OutputsOverTheCapsFailTheJobWithASentence) {
  HUTCH_REQUIRE_ROOT();
  Fields big = run_job({{"function", "file_copier"}, {"input", R"({"extra":[{"name":"big.bin","bytes":1048577}]})"}});
  EXPECT_EQ(big["status"], "failed");
  EXPECT_EQ(big["error"], "output files: $HUTCH_OUT/big.bin holds 1048577 bytes; at most 1 MiB per file are handed back");
  EXPECT_EQ(redis().command({"EXISTS", "hutch:out:" + big["id"] + "/big.bin"}).integer, 0);

  Fields many = run_job({{"function", "file_copier"},
                         {"input", R"({"extra":[{"name":"a","bytes":1000000},{"name":"b","bytes":1000000},
                                               {"name":"c","bytes":1000000},{"name":"d","bytes":1000000}]})"}});
  EXPECT_EQ(many["status"], "failed");
  EXPECT_EQ(many["error"], "output files: the files in $HUTCH_OUT hold more than 3 MiB together, the most a job hands back");
}

TEST_F(FilesTest, DirectoriesAndSymlinksInTheOutputFailTheJobNotHutchd) {
  HUTCH_REQUIRE_ROOT();
  Fields link = run_job({{"function", "file_copier"}, {"input", R"({"extra":[{"name":"passwd","kind":"symlink"}]})"}});
  EXPECT_EQ(link["status"], "failed");
  EXPECT_NE(link["error"].find("$HUTCH_OUT/passwd is not a regular file"), std::string::npos) << link["error"];
  Fields dir = run_job({{"function", "file_copier"}, {"input", R"({"extra":[{"name":"sub","kind":"dir"}]})"}});
  EXPECT_EQ(dir["status"], "failed");
  EXPECT_NE(dir["error"].find("$HUTCH_OUT/sub is not a regular file"), std::string::npos) << dir["error"];
  Fields normal = run_job({{"function", "hello"}});
  EXPECT_EQ(normal["status"], "succeeded") << normal["error"];
}

TEST_F(FilesTest, BadFilesFieldsAreRejectedWithTheRule) {
  struct Case {
    const char *files;
    const char *expected;
  };
  for (const Case &c : {
           Case{"[1,2]", "files: '[1,2]' is not a JSON object"},
           Case{"{", "files: '{' is not valid JSON"},
           Case{R"({"../etc/passwd":"k"})", "files: file name '../etc/passwd' is not allowed"},
           Case{R"({".hidden":"k"})", "files: file name '.hidden' is not allowed"},
           Case{R"({"a.txt":5})", "files: the key of 'a.txt' is not a string"},
           Case{R"({"a.txt":""})", "files: the key of 'a.txt' must be 1-1024 bytes long"},
       }) {
    Fields record = run_job({{"function", "file_copier"}, {"files", c.files}});
    EXPECT_EQ(record["status"], "rejected") << c.files;
    EXPECT_NE(record["error"].find(c.expected), std::string::npos) << c.files << " -> " << record["error"];
  }
  Fields out = run_job({{"function", "hello"}, {"out", "has space"}});
  EXPECT_EQ(out["status"], "rejected");
  EXPECT_NE(out["error"].find("out: 'has space' is not a usable key prefix"), std::string::npos) << out["error"];
}

// The CLI side: `hutch put` / `hutch get` move bytes exactly, and `submit --file` uploads and wires the
// file into the job in one step.
class FilesCliTest : public FilesTest {
 protected:
  void SetUp() override {
    FilesTest::SetUp();
    char pattern[] = "/tmp/hutch-files-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
  }
  void TearDown() override {
    std::filesystem::remove_all(directory_);
    FilesTest::TearDown();
  }
  CommandResult hutch(std::vector<std::string> args) {
    args.insert(args.begin(), {hutch_cli_path(), "--redis", redis_server().url()});
    return run_command(args, 30s);
  }
  std::string path(const std::string &name) const { return directory_ + "/" + name; }
  static void write(const std::string &path, const std::string &content) {
    std::ofstream(path, std::ios::binary) << content;
  }

  std::string directory_;
};

TEST_F(FilesCliTest, PutAndGetMoveBytesExactly) {
  std::string bytes = every_byte(300);
  write(path("in.bin"), bytes);
  CommandResult put = hutch({"put", "k:bin", path("in.bin")});
  ASSERT_EQ(put.exit_code(), 0) << put.err;
  EXPECT_EQ(put.out, "k:bin: " + std::to_string(bytes.size()) + " bytes\n");
  EXPECT_EQ(get("k:bin"), bytes);

  CommandResult to_file = hutch({"get", "k:bin", path("out.bin")});
  ASSERT_EQ(to_file.exit_code(), 0) << to_file.err;
  EXPECT_EQ(read_file_text(path("out.bin")), bytes);
  CommandResult to_stdout = hutch({"get", "k:bin"});
  ASSERT_EQ(to_stdout.exit_code(), 0) << to_stdout.err;
  EXPECT_EQ(to_stdout.out, bytes) << "no newline added or removed";

  CommandResult missing = hutch({"get", "k:nothing"});
  EXPECT_EQ(missing.exit_code(), 1);
  EXPECT_EQ(missing.err, "get: key 'k:nothing' does not exist\n");
  CommandResult unreadable = hutch({"put", "k:x", path("no-such-file")});
  EXPECT_EQ(unreadable.exit_code(), 1);
  EXPECT_NE(unreadable.err.find("no-such-file"), std::string::npos) << unreadable.err;
}

TEST_F(FilesCliTest, SubmitFileUploadsTheFileAndTheJobSeesIt) {
  HUTCH_REQUIRE_ROOT();
  std::string bytes = every_byte(10);
  write(path("photo.jpg"), bytes);
  CommandResult submitted = hutch({"submit", "file_copier", "--file", "in.jpg=" + path("photo.jpg"), "--file",
                                   path("photo.jpg"), "--out", "res:cli", "--wait"});
  ASSERT_EQ(submitted.exit_code(), 0) << submitted.out << submitted.err;
  EXPECT_EQ(get("res:cli/in.jpg"), bytes);
  EXPECT_EQ(get("res:cli/photo.jpg"), bytes);

  // The record of the one execution: succeeded, with the `files` submit made (both names, one key: uploads
  // are stored by checksum) and what came back in `files_out`.
  Reply ids = redis().command({"ZRANGE", "hutch:execs", "0", "-1"});
  ASSERT_EQ(ids.elements.size(), 1u);
  Fields record = redis().record(ids.elements[0].text);
  EXPECT_EQ(record["status"], "succeeded") << describe_fields(record);
  nlohmann::json files = nlohmann::json::parse(record["files"], nullptr, false);
  ASSERT_TRUE(files.is_object() && files.size() == 2) << record["files"];
  const std::string uploaded = files.value("in.jpg", "?");
  EXPECT_TRUE(uploaded.starts_with("hutch:upload:")) << uploaded;
  EXPECT_EQ(files.value("photo.jpg", "?"), uploaded) << "the same bytes are uploaded once";
  EXPECT_EQ(get(uploaded), bytes);
  const nlohmann::json expected_out = nlohmann::json::array(
      {{{"name", "in.jpg"}, {"key", "res:cli/in.jpg"}, {"bytes", bytes.size()}},
       {{"name", "photo.jpg"}, {"key", "res:cli/photo.jpg"}, {"bytes", bytes.size()}}});
  EXPECT_EQ(nlohmann::json::parse(record["files_out"], nullptr, false), expected_out) << record["files_out"];
  CommandResult fetched = hutch({"get", "res:cli/in.jpg", path("back.jpg")});
  ASSERT_EQ(fetched.exit_code(), 0) << fetched.err;
  EXPECT_EQ(read_file_text(path("back.jpg")), bytes);
}

}  // namespace
}  // namespace hutch::test
