# cmake -DINPUT=default.seccomp -DOUTPUT=default_seccomp_policy_text.cc -P embed.cmake
# Writes a C++ source whose hutch::default_seccomp_policy_text() returns the policy file's bytes, so hutchd
# carries the exact file of the tree it was built from. Bytes, not a raw string literal: no content can end
# the literal early.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR byte_count "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by sandbox/policy/embed.cmake; edit the policy file, not this.
#include \"sandbox/seccomp_policy.h\"

namespace hutch {
namespace {
constexpr char kPolicy[] = {${bytes} 0};
}  // namespace

std::string_view default_seccomp_policy_text() { return std::string_view(kPolicy, ${byte_count}); }

}  // namespace hutch
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
