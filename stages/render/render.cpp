// The `render` stage: draws an array as a figure file (PNG, PDF or SVG):
// images as a montage or a labelled grid, or a series as a line plot.
#include "render/figure.hpp"
#include "render/title_format.hpp"

#include <fepflow/fepflow.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <optional>
#include <stdexcept>

namespace {

using fepflow::Error;
using fepflow::ParamError;

template <class Dims>
std::string shape_text(const Dims& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

std::string plural(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

/// Columns of a near-square montage of `count` images.
std::size_t square_columns(std::size_t count) {
  return static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(count))));
}

/// How an input array splits into images: its leading axes count the images,
/// the rest are each image's pixels.
struct ImageAxes {
  std::vector<std::size_t> leading;
  std::size_t height = 0, width = 0;
};

class Render : public fepflow::Stage {
  fepflow::Input<float> images{
      this, "images", fepflow::any_rank,
      "N x H x W images, N x pixels (square, or with `shape`), rows x columns x H x W (or x pixels), "
      "or a rank-1 series for a line plot",
      fepflow::any_numeric};
  fepflow::Input<float> scores{this, "scores", 1,
                               "numbers for the tile titles (see title_format): one per image, or fewer, "
                               "which title the last tiles",
                               fepflow::optional_input | fepflow::any_numeric};
  fepflow::Input<std::int64_t> select{this, "select", 1,
                                      "which images to show, in this order (indices into the images, their "
                                      "leading axes counted row-major)",
                                      fepflow::optional_input};
  fepflow::Output<std::string> written{this, "file", 0, "the path of the figure written"};

  fepflow::Param<std::string> file{this, "file", fepflow::required,
                                   "figure to write, relative to the working directory: .png, .pdf or .svg",
                                   fepflow::non_empty()};
  fepflow::Param<std::string> kind{this, "kind", "auto",
                                   "montage (row labels above each row), grid (row labels at the left), line, "
                                   "or auto: line for a rank-1 input, else montage",
                                   fepflow::one_of({"auto", "montage", "grid", "line"})};
  fepflow::Param<std::int64_t> columns{this, "columns", 0,
                                       "images per row; 0: the last leading axis for rows x columns input, "
                                       "else ceil(sqrt(N))",
                                       fepflow::non_negative()};
  fepflow::Param<double> vmin{this, "vmin", -1.0, "images: the value drawn black"};
  fepflow::Param<double> vmax{this, "vmax", 1.0, "images: the value drawn white"};
  fepflow::Param<bool> auto_range{this, "auto_range", false,
                                  "images: scale each from its own minimum (black) to maximum (white), "
                                  "ignoring vmin and vmax"};
  fepflow::Param<std::string> title{this, "title", "", "the figure's title"};
  fepflow::Param<std::string> title_format{
      this, "title_format", "",
      "tile titles: {} or {:.Nf} for the score, {index} for the tile's number (from 1), e.g. \"r = {:.2f}\"; "
      "{:.2f} when scores are connected and this is empty"};
  fepflow::Param<std::int64_t> max_items{this, "max_items", 0, "show at most this many images (after select); 0: all",
                                         fepflow::non_negative()};
  fepflow::Param<std::int64_t> moving_average{this, "moving_average", 0,
                                              "line: window of a moving average drawn over the series; 0: none",
                                              fepflow::non_negative()};
  fepflow::Param<std::string> x_label{this, "x_label", "", "line: the x axis' label"};
  fepflow::Param<std::string> y_label{this, "y_label", "", "line: the y axis' label"};
  fepflow::Param<std::vector<std::string>> row_labels{this, "row_labels", std::vector<std::string>{},
                                                      "one label per row of images"};
  fepflow::Param<std::vector<std::string>> column_labels{this, "column_labels", std::vector<std::string>{},
                                                         "one label per column of images, above the first row"};
  fepflow::Param<std::vector<std::int64_t>> shape{this, "shape", std::vector<std::int64_t>{},
                                                  "[H, W] of each image, when images hold flat pixels",
                                                  fepflow::positive()};

  std::vector<std::string> external_files() const override { return {*file}; }

  void run(fepflow::Context& ctx) override {
    try {
      fepflow::render::format_from_path(*file);
    } catch (const fepflow::render::FigureError& e) {
      throw ParamError("file", "parameter 'file': " + std::string(e.what()));
    }
    const bool line = *kind == "line" || (*kind == "auto" && images->dimension() == 1);
    try {
      if (line)
        draw_series();
      else
        draw_images(*kind == "grid");
    } catch (const fepflow::render::FigureError& e) {
      throw Error("cannot render '" + *file + "': " + e.what());
    }
    written = *file;
    ctx.log("wrote " + *file);
  }

  void draw_series() {
    const auto& data = *images;
    if (data.dimension() != 1)
      throw Error("kind 'line' plots a rank-1 series; input 'images' is float32" + shape_text(data.shape()));
    if (scores.connected() || select.connected())
      throw Error("kind 'line' uses neither input 'scores' nor input 'select': leave them unconnected");
    const std::vector<float> series(data.begin(), data.end());
    if (series.size() < 2)
      throw Error("input 'images' holds " + plural(series.size(), "value") + ": a line plot needs 2 or more");
    if (std::none_of(series.begin(), series.end(), [](float v) { return std::isfinite(v); }))
      throw Error("input 'images' has no finite value (all NaN or infinite): nothing to plot");
    if (static_cast<std::size_t>(*moving_average) > series.size())
      throw ParamError("moving_average", "parameter 'moving_average' is " + std::to_string(*moving_average) +
                                             " but the series has only " + plural(series.size(), "value"));
    fepflow::render::LinePlotOptions options;
    options.title = *title;
    options.x_label = *x_label;
    options.y_label = *y_label;
    options.moving_average = static_cast<std::size_t>(*moving_average);
    fepflow::render::draw_line_plot(series, options, *file);
  }

  ImageAxes image_axes() const {
    const auto dims = std::vector<std::size_t>(images->shape().begin(), images->shape().end());
    const std::string what = "input 'images' is float32" + shape_text(dims);
    ImageAxes axes;
    if (!shape->empty()) {
      if (shape->size() != 2)
        throw ParamError("shape",
                         "parameter 'shape' must be [H, W], got " + std::to_string(shape->size()) + " numbers");
      axes.height = static_cast<std::size_t>((*shape)[0]);
      axes.width = static_cast<std::size_t>((*shape)[1]);
      const std::size_t pixels = axes.height * axes.width;
      const std::size_t rank = dims.size();
      if (rank >= 1 && dims[rank - 1] == pixels)
        axes.leading.assign(dims.begin(), dims.end() - 1);
      else if (rank >= 2 && dims[rank - 2] == axes.height && dims[rank - 1] == axes.width)
        axes.leading.assign(dims.begin(), dims.end() - 2);
      else
        throw ParamError("shape", "parameter 'shape' [" + std::to_string(axes.height) + ", " +
                                      std::to_string(axes.width) + "] does not fit: " + what +
                                      ", expected its last axis to hold " + std::to_string(pixels) +
                                      " pixels or its last two to be " + std::to_string(axes.height) + " x " +
                                      std::to_string(axes.width));
      return axes;
    }
    if (dims.size() >= 3) {
      axes.height = dims[dims.size() - 2];
      axes.width = dims.back();
      axes.leading.assign(dims.begin(), dims.end() - 2);
      return axes;
    }
    if (dims.size() == 2) {
      const auto side = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(dims[1]))));
      if (side * side != dims[1])
        throw ParamError("shape", what + ": its " + std::to_string(dims[1]) +
                                      " pixels per image are not a square; set parameter 'shape' to [H, W]");
      axes.height = axes.width = side;
      axes.leading = {dims[0]};
      return axes;
    }
    throw Error("kind '" + *kind + "' draws images: N x H x W, or N x pixels (with 'shape'); " + what);
  }

  /// The images to show, in order: `select` if connected, at most `max_items`.
  std::vector<std::size_t> shown_items(std::size_t count) const {
    std::vector<std::size_t> items;
    if (select.connected()) {
      const auto& chosen = *select;
      if (chosen.size() == 0) throw Error("input 'select' is empty: no image to draw");
      for (std::size_t k = 0; k < chosen.size(); ++k) {
        const std::int64_t index = chosen.flat(k);
        if (index < 0 || static_cast<std::size_t>(index) >= count)
          throw Error("input 'select' [" + std::to_string(k) + "] is " + std::to_string(index) +
                      ", out of range: input 'images' holds " + plural(count, "image") + " (0 to " +
                      std::to_string(count - 1) + ")");
        items.push_back(static_cast<std::size_t>(index));
      }
    } else {
      items.resize(count);
      std::iota(items.begin(), items.end(), std::size_t{0});
    }
    if (*max_items > 0 && items.size() > static_cast<std::size_t>(*max_items))
      items.resize(static_cast<std::size_t>(*max_items));
    return items;
  }

  /// One title per tile shown, or none.
  std::vector<std::string> tile_titles(const std::vector<std::size_t>& items, std::size_t count) const {
    const std::string pattern = title_format->empty() && scores.connected() ? "{:.2f}" : *title_format;
    if (pattern.empty()) return {};
    std::optional<fepflow::render::TitleFormat> format;
    try {
      format.emplace(pattern);
    } catch (const std::invalid_argument& e) {
      throw ParamError("title_format", "parameter 'title_format' \"" + pattern + "\": " + e.what());
    }
    if (format->uses_score() && !scores.connected())
      throw ParamError("title_format", "parameter 'title_format' \"" + pattern +
                                           "\" shows a score, but input 'scores' is not connected");
    if (!format->uses_score() && scores.connected())
      throw ParamError("title_format", "parameter 'title_format' \"" + pattern +
                                           "\" has no {} or {:.Nf} to show the connected input 'scores'");
    std::vector<std::string> titles(items.size());
    if (!scores.connected()) {
      for (std::size_t k = 0; k < items.size(); ++k) titles[k] = format->format(0, k + 1);
      return titles;
    }
    const auto& values = *scores;
    if (values.size() == count) {
      for (std::size_t k = 0; k < items.size(); ++k) titles[k] = format->format(values.flat(items[k]), k + 1);
    } else if (values.size() <= items.size()) {
      // Fewer scores title the last tiles: 6 scores under a 2 x 6 figure of
      // patterns over attractors title the attractors.
      const std::size_t offset = items.size() - values.size();
      for (std::size_t j = 0; j < values.size(); ++j)
        titles[offset + j] = format->format(values.flat(j), offset + j + 1);
    } else {
      throw Error("input 'scores' holds " + plural(values.size(), "value") + ": expected one per image (" +
                  std::to_string(count) + ") or at most one per tile shown (" + std::to_string(items.size()) + ")");
    }
    return titles;
  }

  void draw_images(bool grid) {
    const ImageAxes axes = image_axes();
    const std::size_t count =
        std::accumulate(axes.leading.begin(), axes.leading.end(), std::size_t{1}, std::multiplies<>());
    if (count == 0) throw Error("input 'images' is float32" + shape_text(images->shape()) + ": no image to draw");
    const std::vector<std::size_t> items = shown_items(count);

    fepflow::render::ImageStack stack;
    stack.count = items.size();
    stack.height = axes.height;
    stack.width = axes.width;
    const std::size_t pixels = axes.height * axes.width;
    stack.pixels.reserve(items.size() * pixels);
    const float* data = images->data();
    for (std::size_t item : items)
      stack.pixels.insert(stack.pixels.end(), data + item * pixels, data + (item + 1) * pixels);
    if (std::none_of(stack.pixels.begin(), stack.pixels.end(), [](float v) { return std::isfinite(v); }))
      throw Error("input 'images' has no finite value in the images shown (all NaN or infinite): nothing to draw");

    fepflow::render::TileOptions options;
    const std::size_t natural_columns = axes.leading.size() >= 2 ? axes.leading.back() : 0;
    const std::size_t wanted = *columns > 0          ? static_cast<std::size_t>(*columns)
                               : natural_columns > 0 ? natural_columns
                                                     : square_columns(items.size());
    options.columns = std::min(wanted, items.size());
    const std::size_t rows = (items.size() + options.columns - 1) / options.columns;
    const std::string layout =
        "(" + plural(items.size(), "image") + ", " + std::to_string(options.columns) + " per row)";
    if (!row_labels->empty() && row_labels->size() != rows)
      throw ParamError("row_labels", "parameter 'row_labels' has " + plural(row_labels->size(), "label") +
                                         " but the figure has " + plural(rows, "row") + " " + layout);
    if (!column_labels->empty() && column_labels->size() != options.columns)
      throw ParamError("column_labels", "parameter 'column_labels' has " + plural(column_labels->size(), "label") +
                                            " but the figure has " + plural(options.columns, "column") + " " + layout);
    if (!*auto_range && !(*vmin < *vmax))
      throw ParamError("vmax", "parameter 'vmax' (" + fepflow::format_param_value(*vmax) +
                                   ") must be greater than 'vmin' (" + fepflow::format_param_value(*vmin) +
                                   "), or set auto_range");
    options.range = {*auto_range, *vmin, *vmax};
    options.tile_titles = tile_titles(items, count);
    options.row_labels = *row_labels;
    options.column_labels = *column_labels;
    options.title = *title;
    if (grid)
      fepflow::render::draw_image_grid(stack, options, *file);
    else
      fepflow::render::draw_montage(stack, options, *file);
  }
};

}  // namespace

FEPFLOW_REGISTER_STAGE(Render, "render", 1,
                       "Draws images (montage or labelled grid) or a series (line plot) to PNG, PDF or SVG")
