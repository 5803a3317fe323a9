#include "render/title_format.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace fepflow::render {
namespace {

/// The decimals of a "{:.Nf}" placeholder's inside (":.Nf"); -1 if it is not one.
int fixed_decimals(const std::string& inside) {
  if (inside.size() < 4 || inside.compare(0, 2, ":.") != 0 || inside.back() != 'f') return -1;
  const std::string digits = inside.substr(2, inside.size() - 3);
  if (digits.size() > 2 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
    return -1;
  const int decimals = std::stoi(digits);
  return decimals <= 17 ? decimals : -1;
}

}  // namespace

TitleFormat::TitleFormat(const std::string& pattern) {
  std::string text;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {
      text += c;
      ++i;
      continue;
    }
    if (c == '}')
      throw std::invalid_argument("a lone '}' at position " + std::to_string(i) + " (write '}}' for a brace)");
    if (c != '{') {
      text += c;
      continue;
    }
    const std::size_t close = pattern.find('}', i);
    if (close == std::string::npos)
      throw std::invalid_argument("the '{' at position " + std::to_string(i) + " is never closed");
    const std::string inside = pattern.substr(i + 1, close - i - 1);
    if (!text.empty()) pieces_.push_back({PieceKind::text, std::move(text)});
    text.clear();
    if (inside.empty())
      pieces_.push_back({PieceKind::score, {}, -1});
    else if (inside == "index")
      pieces_.push_back({PieceKind::index, {}});
    else if (const int decimals = fixed_decimals(inside); decimals >= 0)
      pieces_.push_back({PieceKind::score, {}, decimals});
    else
      throw std::invalid_argument("unknown placeholder '{" + inside +
                                  "}': expected {}, {:.Nf} (e.g. {:.2f}) or {index}");
    i = close;
  }
  if (!text.empty()) pieces_.push_back({PieceKind::text, std::move(text)});
}

bool TitleFormat::uses_score() const {
  return std::any_of(pieces_.begin(), pieces_.end(), [](const Piece& p) { return p.kind == PieceKind::score; });
}

std::string TitleFormat::format(double score, std::size_t index) const {
  std::string out;
  for (const Piece& piece : pieces_) {
    switch (piece.kind) {
      case PieceKind::text:
        out += piece.text;
        break;
      case PieceKind::index:
        out += std::to_string(index);
        break;
      case PieceKind::score: {
        char buffer[64];
        if (piece.decimals < 0)
          std::snprintf(buffer, sizeof buffer, "%g", score);
        else
          std::snprintf(buffer, sizeof buffer, "%.*f", piece.decimals, score);
        out += buffer;
        break;
      }
    }
  }
  return out;
}

}  // namespace fepflow::render
