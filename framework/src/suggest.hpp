// "Did you mean" suggestions for misspelled names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fepflow::detail {

/// Up to `max` of `candidates` close to `name` (edit distance at most a third
/// of the name's length, at least 2), closest first.
std::vector<std::string> closest_names(std::string_view name, const std::vector<std::string>& candidates,
                                       std::size_t max = 3);

/// " (did you mean 'a' or 'b'?)" or "" when nothing is close.
std::string did_you_mean(const std::vector<std::string>& suggestions);

}  // namespace fepflow::detail
