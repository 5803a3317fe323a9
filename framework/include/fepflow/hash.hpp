// SHA-256 digests (OpenSSL), as lowercase hex.
#pragma once

#include <string>
#include <string_view>

namespace fepflow {

std::string sha256_hex(std::string_view bytes);
/// Digest of a file's content; throws fepflow::Error naming the file if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace fepflow
