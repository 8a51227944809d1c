// Status words as the CLI checks them. queue/status.h names them; these helpers look words up without
// linking the supervisor's queue code.
#pragma once

#include <string>
#include <string_view>

namespace hutch::cli {

bool is_status_word(std::string_view word);
// A word after which the record never changes (succeeded, failed, ...); false for queued, running, unknown.
bool is_final_status_word(std::string_view word);
// "queued, running, succeeded, ...", for messages.
std::string status_words_list();

}  // namespace hutch::cli
