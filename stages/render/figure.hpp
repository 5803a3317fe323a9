// Figures drawn with Cairo from plain arrays: image montages, image grids with
// row and column labels, and line plots. Nothing here knows about stages; the
// `render` stage validates its inputs and calls these functions.
//
// Sizes are pixels of a 100 dpi figure, as in matplotlib's defaults. A PNG has
// exactly these pixels; a PDF or SVG holds the same figure in points (0.72
// points per pixel). The file's extension (.png, .pdf, .svg) picks the format.
// A figure is written to a temporary file beside its path and renamed over it,
// so a failed render leaves no partial file.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace fepflow::render {

/// Why a figure could not be drawn or written.
class FigureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class FileFormat { png, pdf, svg };

/// The format named by the path's extension (any case); FigureError for another.
FileFormat format_from_path(const std::string& path);

/// `count` grayscale images of height x width pixels, row-major, one after
/// another: pixel (i, y, x) is pixels[(i * height + y) * width + x].
struct ImageStack {
  std::vector<float> pixels;
  std::size_t count = 0;
  std::size_t height = 0;
  std::size_t width = 0;
};

/// How values map to gray. NaN and infinite pixels show the white background.
struct GrayRange {
  /// Each tile from its own finite minimum (black) to its maximum (white), as
  /// matplotlib's imshow does without vmin/vmax; a constant tile is mid-gray.
  bool per_tile = false;
  /// Otherwise one range for all tiles: `low` and below black, `high` and above white.
  double low = -1.0;
  double high = 1.0;
};

struct TileOptions {
  std::size_t columns = 5;
  GrayRange range;
  std::vector<std::string> tile_titles;    // empty, or one per image ("" leaves a tile untitled)
  std::vector<std::string> row_labels;     // empty, or one per row
  std::vector<std::string> column_labels;  // empty, or one per column, above the first row
  std::string title;                       // over the whole figure
};

struct Box {
  double x = 0, y = 0, width = 0, height = 0;
};

struct TileLayout {
  double width = 0, height = 0;  // the figure, in pixels
  std::vector<Box> tiles;        // where each image goes, in input order
};

/// Images in rows of `columns`, row labels as headings centred above each row
/// (the reconstruction galleries: "original", "noisy", one row per setting).
TileLayout montage_layout(const ImageStack& images, const TileOptions& options);
void draw_montage(const ImageStack& images, const TileOptions& options, const std::string& path);

/// Images in rows of `columns`, row labels to the left of each row and column
/// labels above each column (the precision grid: signal x beta).
TileLayout image_grid_layout(const ImageStack& images, const TileOptions& options);
void draw_image_grid(const ImageStack& images, const TileOptions& options, const std::string& path);

/// The mean of each full window of `window` consecutive values (series.size()
/// - window + 1 of them), skipping NaN and infinite values; NaN where a window
/// has no finite value. Throws FigureError unless 1 <= window <= series.size().
std::vector<double> moving_average(const std::vector<float>& series, std::size_t window);

struct AxisTicks {
  std::vector<double> values;
  std::vector<std::string> labels;  // as few decimals as the values need; U+2212 for minus
};

/// Round tick values (multiples of 1, 2, 2.5 or 5 times a power of ten) within
/// [low, high], at most `max_count` of them and as many as that allows.
AxisTicks nice_ticks(double low, double high, int max_count);

struct LinePlotOptions {
  std::string title, x_label, y_label;
  std::size_t moving_average = 0;  // window of the overlaid moving average; 0: none
};

/// The series against its index (0, 1, ...), NaN values leaving gaps, with
/// framed axes, round ticks and, when `moving_average` > 0, the moving average
/// drawn over it and a legend.
void draw_line_plot(const std::vector<float>& series, const LinePlotOptions& options, const std::string& path);

}  // namespace fepflow::render
