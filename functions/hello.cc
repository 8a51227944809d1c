// hello: {"name": "Ada"} -> prints "Hello, Ada" and returns the same text as a JSON string.
#include <cstdio>
#include <string>

#include "functions/builtins.h"
#include "functions/function_io.h"

namespace hutch::fn {

int run_hello(const nlohmann::json &input) {
  const nlohmann::json *name_field = nullptr;
  if (auto found = find_field(input, "name"); found) {
    name_field = *found;
  } else {
    std::fprintf(stderr, "hello: %s\n", found.error().message.c_str());
    return kExitBadInput;
  }
  std::string name = "World";
  if (name_field != nullptr && !name_field->is_null()) {
    if (!name_field->is_string()) {
      std::fprintf(stderr, "hello: name must be a string, not %s\n", name_field->type_name());
      return kExitBadInput;
    }
    name = name_field->get<std::string>();
  }
  std::string greeting = "Hello, " + name;
  std::printf("%s\n", greeting.c_str());
  std::fflush(stdout);
  if (auto written = write_result(greeting); !written) {
    std::fprintf(stderr, "hello: %s\n", written.error().message.c_str());
    return 1;
  }
  return 0;
}

}  // namespace hutch::fn
