// Tile titles written from a pattern such as "r = {:.2f}" or "Attractor {index}".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fepflow::render {

/// A title pattern. Placeholders: `{}` (the score, 6 significant digits),
/// `{:.Nf}` (the score with N decimals, N up to 17) and `{index}` (the tile's
/// number, counting from 1); `{{` and `}}` write a brace.
class TitleFormat {
 public:
  /// Throws std::invalid_argument naming the bad placeholder.
  explicit TitleFormat(const std::string& pattern);

  bool uses_score() const;
  std::string format(double score, std::size_t index) const;

 private:
  enum class PieceKind { text, score, index };
  struct Piece {
    PieceKind kind;
    std::string text;   // PieceKind::text
    int decimals = -1;  // PieceKind::score: -1 for 6 significant digits
  };
  std::vector<Piece> pieces_;
};

}  // namespace fepflow::render
