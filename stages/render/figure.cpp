#include "render/figure.hpp"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>

namespace fepflow::render {
namespace {

constexpr double points_per_pixel = 0.72;
constexpr double quarter_turn = 1.5707963267948966;  // radians
constexpr const char* font_face = "sans-serif";

// Font sizes in pixels, near matplotlib's at 100 dpi (10 pt = 13.9 px, 12 pt = 16.7 px).
constexpr double figure_title_size = 18;
constexpr double heading_size = 15;
constexpr double tile_title_size = 14;
constexpr double smallest_tile_title_size = 8;
constexpr double axis_label_size = 14;
constexpr double tick_label_size = 13;

constexpr double margin = 12;
constexpr double tile_gap = 8;
constexpr double text_gap = 4;

constexpr double line_plot_width = 960;
constexpr double line_plot_height = 400;
constexpr double tick_length = 5;

struct Rgb {
  double r, g, b;
};
constexpr Rgb series_colour{0.122, 0.467, 0.706};   // matplotlib's C0 blue
constexpr Rgb average_colour{1.000, 0.498, 0.055};  // matplotlib's C1 orange

struct CairoDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
using ContextPtr = std::unique_ptr<cairo_t, CairoDeleter>;
using SurfacePtr = std::unique_ptr<cairo_surface_t, CairoDeleter>;

std::string cairo_message(cairo_status_t status) { return cairo_status_to_string(status); }

// Unhinted metrics measure text the same on every surface, so a layout
// computed once fits the PNG, PDF and SVG alike.
void use_unhinted_text(cairo_t* cr) {
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options(cr, options);
  cairo_font_options_destroy(options);
  cairo_select_font_face(cr, font_face, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

/// A context on a 1 x 1 surface, for measuring text before the figure's size is known.
ContextPtr measuring_context() {
  SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1));
  ContextPtr cr(cairo_create(surface.get()));
  use_unhinted_text(cr.get());
  return cr;
}

double text_width(cairo_t* cr, const std::string& text, double size) {
  cairo_set_font_size(cr, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

cairo_font_extents_t font_extents(cairo_t* cr, double size) {
  cairo_set_font_size(cr, size);
  cairo_font_extents_t extents;
  cairo_font_extents(cr, &extents);
  return extents;
}

/// Height of a line of text, whole pixels so that everything below stays on the pixel grid.
double line_height(cairo_t* cr, double size) {
  const cairo_font_extents_t e = font_extents(cr, size);
  return std::ceil(e.ascent + e.descent);
}

enum class Align { left, centre, right };

/// One line of text: `x` is its left end, centre or right end; `top` the top of its line.
struct Label {
  std::string text;
  double size;
  double x, top;
  Align align;
};

void draw_label(cairo_t* cr, const Label& label) {
  const double width = text_width(cr, label.text, label.size);
  const double left = label.align == Align::left     ? label.x
                      : label.align == Align::centre ? label.x - width / 2
                                                     : label.x - width;
  cairo_move_to(cr, left, label.top + font_extents(cr, label.size).ascent);
  cairo_show_text(cr, label.text.c_str());
}

/// Text turned a quarter left (reading upwards), centred on (x, y); x is the line's top.
void draw_upward_label(cairo_t* cr, const std::string& text, double size, double x, double y) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, -quarter_turn);
  cairo_move_to(cr, -text_width(cr, text, size) / 2, font_extents(cr, size).ascent);
  cairo_show_text(cr, text.c_str());
  cairo_restore(cr);
}

/// A path beside the figure's own, unique per process and call, removed on
/// destruction unless it was renamed to the figure: a failed render leaves nothing.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& target)
      : path_(target + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter_++)) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (!renamed_) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void rename_to(const std::string& target) {
    std::error_code error;
    std::filesystem::rename(path_, target, error);
    if (error) throw FigureError("cannot rename '" + path_ + "' to '" + target + "': " + error.message());
    renamed_ = true;
  }

 private:
  static inline std::atomic<unsigned> counter_{0};
  std::string path_;
  bool renamed_ = false;
};

/// The surface a figure is drawn on, backed by a temporary file (written by
/// save() for a PNG, by the surface itself for a PDF or SVG) that save()
/// renames over the figure's path.
class Canvas {
 public:
  Canvas(const std::string& path, double width, double height)
      : format_(format_from_path(path)), path_(path), temporary_(path) {
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    std::error_code error;
    if (!folder.empty()) std::filesystem::create_directories(folder, error);
    if (error) throw FigureError("cannot create the folder '" + folder.string() + "': " + error.message());
    switch (format_) {
      case FileFormat::png:
        surface_.reset(
            cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(width), static_cast<int>(height)));
        break;
      case FileFormat::pdf:
        surface_.reset(
            cairo_pdf_surface_create(temporary_.path().c_str(), width * points_per_pixel, height * points_per_pixel));
        break;
      case FileFormat::svg:
        surface_.reset(
            cairo_svg_surface_create(temporary_.path().c_str(), width * points_per_pixel, height * points_per_pixel));
        break;
    }
    if (const cairo_status_t status = cairo_surface_status(surface_.get()); status != CAIRO_STATUS_SUCCESS)
      throw FigureError("cannot write '" + temporary_.path() + "': " + cairo_message(status));
    cr_.reset(cairo_create(surface_.get()));
    if (format_ != FileFormat::png) cairo_scale(cr_.get(), points_per_pixel, points_per_pixel);
    use_unhinted_text(cr_.get());
    cairo_set_source_rgb(cr_.get(), 1, 1, 1);
    cairo_paint(cr_.get());
  }

  cairo_t* context() const { return cr_.get(); }

  void save() {
    if (const cairo_status_t status = cairo_status(cr_.get()); status != CAIRO_STATUS_SUCCESS)
      throw FigureError("cannot draw '" + path_ + "': " + cairo_message(status));
    cr_.reset();
    cairo_status_t status;
    if (format_ == FileFormat::png) {
      status = cairo_surface_write_to_png(surface_.get(), temporary_.path().c_str());
    } else {
      cairo_surface_finish(surface_.get());
      status = cairo_surface_status(surface_.get());
    }
    if (status != CAIRO_STATUS_SUCCESS)
      throw FigureError("cannot write '" + temporary_.path() + "': " + cairo_message(status));
    temporary_.rename_to(path_);
  }

 private:
  FileFormat format_;
  std::string path_;
  TemporaryFile temporary_;  // declared before the surface: removed after the surface closes it
  SurfacePtr surface_;
  ContextPtr cr_;
};

// ------------------------------------------------------------------ tiles

enum class RowLabelPlace { above_row, left_of_row };

struct TileScene {
  TileLayout layout;
  double scale = 1;  // figure pixels per image pixel
  std::vector<Label> labels;
};

// Tiles about 200 px across (matplotlib's 2-inch subplots) for up to six
// columns, smaller for more, down to 128 px. Enlarging by a whole factor
// keeps every image pixel the same size. Images larger than that (a weight
// matrix) shrink only as far as a figure about 1000 px wide needs.
double tile_scale(std::size_t longest_side, std::size_t columns) {
  const double target = std::clamp(1200.0 / static_cast<double>(columns), 128.0, 200.0);
  const double longest = static_cast<double>(longest_side);
  if (longest <= target) return std::floor(target / longest);
  return std::min(1.0, std::max(target, 1000.0 / static_cast<double>(columns)) / longest);
}

void check_tiles(const ImageStack& images, const TileOptions& options, std::size_t rows) {
  if (images.count == 0 || images.height == 0 || images.width == 0)
    throw FigureError("no images to draw (" + std::to_string(images.count) + " of " + std::to_string(images.height) +
                      " x " + std::to_string(images.width) + " pixels)");
  if (images.pixels.size() != images.count * images.height * images.width)
    throw FigureError("the image stack holds " + std::to_string(images.pixels.size()) + " values, not " +
                      std::to_string(images.count) + " x " + std::to_string(images.height) + " x " +
                      std::to_string(images.width));
  if (!options.tile_titles.empty() && options.tile_titles.size() != images.count)
    throw FigureError(std::to_string(options.tile_titles.size()) + " tile titles for " + std::to_string(images.count) +
                      " images");
  if (!options.row_labels.empty() && options.row_labels.size() != rows)
    throw FigureError(std::to_string(options.row_labels.size()) + " row labels for " + std::to_string(rows) + " rows");
  if (!options.column_labels.empty() && options.column_labels.size() != options.columns)
    throw FigureError(std::to_string(options.column_labels.size()) + " column labels for " +
                      std::to_string(options.columns) + " columns");
  if (!options.range.per_tile && !(options.range.low < options.range.high))
    throw FigureError("the gray range needs low < high, got [" + std::to_string(options.range.low) + ", " +
                      std::to_string(options.range.high) + "]");
}

TileScene plan_tiles(cairo_t* meter, const ImageStack& images, const TileOptions& options, RowLabelPlace place) {
  if (options.columns == 0) throw FigureError("a figure needs at least one column");
  const std::size_t columns = options.columns;
  const std::size_t rows = (images.count + columns - 1) / columns;
  check_tiles(images, options, rows);

  TileScene scene;
  scene.scale = tile_scale(std::max(images.height, images.width), columns);
  const double tile_width = std::round(static_cast<double>(images.width) * scene.scale);
  const double tile_height = std::round(static_cast<double>(images.height) * scene.scale);

  // Tile titles share one size, shrunk so that the widest fits its tile.
  double widest_tile_title = 0;
  for (const auto& t : options.tile_titles)
    widest_tile_title = std::max(widest_tile_title, text_width(meter, t, tile_title_size));
  const double title_size =
      widest_tile_title > tile_width
          ? std::max(smallest_tile_title_size, std::floor(tile_title_size * tile_width / widest_tile_title))
          : tile_title_size;

  const bool headings = place == RowLabelPlace::above_row && !options.row_labels.empty();
  const bool side_labels = place == RowLabelPlace::left_of_row && !options.row_labels.empty();
  double side_width = 0;
  if (side_labels) {
    for (const auto& l : options.row_labels) side_width = std::max(side_width, text_width(meter, l, heading_size));
    side_width = std::ceil(side_width) + 2 * text_gap;
  }
  const double tiles_width = static_cast<double>(columns) * tile_width + static_cast<double>(columns - 1) * tile_gap;
  const double content_width = side_width + tiles_width;
  double widest_text = text_width(meter, options.title, figure_title_size);
  if (headings)
    for (const auto& l : options.row_labels) widest_text = std::max(widest_text, text_width(meter, l, heading_size));
  const double figure_width = std::ceil(std::max(content_width, widest_text) + 2 * margin);
  const double tiles_left = std::floor((figure_width - content_width) / 2) + side_width;
  const double tiles_centre = tiles_left + tiles_width / 2;
  const auto column_left = [&](std::size_t c) { return tiles_left + static_cast<double>(c) * (tile_width + tile_gap); };

  double y = margin;
  if (!options.title.empty()) {
    scene.labels.push_back({options.title, figure_title_size, figure_width / 2, y, Align::centre});
    y += line_height(meter, figure_title_size) + 3 * text_gap;
  }
  if (!options.column_labels.empty()) {
    for (std::size_t c = 0; c < columns; ++c)
      scene.labels.push_back(
          {options.column_labels[c], heading_size, column_left(c) + tile_width / 2, y, Align::centre});
    y += line_height(meter, heading_size) + text_gap;
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t first = r * columns, end = std::min(first + columns, images.count);
    if (headings) {
      // Set apart from the row above, so that a heading reads as its own row's.
      if (r > 0) y += tile_gap;
      scene.labels.push_back({options.row_labels[r], heading_size, tiles_centre, y, Align::centre});
      y += line_height(meter, heading_size) + text_gap;
    }
    const bool titled =
        !options.tile_titles.empty() && std::any_of(options.tile_titles.begin() + static_cast<std::ptrdiff_t>(first),
                                                    options.tile_titles.begin() + static_cast<std::ptrdiff_t>(end),
                                                    [](const std::string& t) { return !t.empty(); });
    if (titled) {
      for (std::size_t i = first; i < end; ++i)
        scene.labels.push_back(
            {options.tile_titles[i], title_size, column_left(i - first) + tile_width / 2, y, Align::centre});
      y += line_height(meter, title_size) + text_gap;
    }
    for (std::size_t i = first; i < end; ++i)
      scene.layout.tiles.push_back({column_left(i - first), y, tile_width, tile_height});
    if (side_labels) {
      const double label_top = y + std::round((tile_height - line_height(meter, heading_size)) / 2);
      scene.labels.push_back({options.row_labels[r], heading_size, tiles_left - 2 * text_gap, label_top, Align::right});
    }
    y += tile_height + tile_gap;
  }
  scene.layout.width = figure_width;
  scene.layout.height = std::ceil(y - tile_gap + margin);
  return scene;
}

/// The image's gray levels, 0 (black) to 255 (white); -1 marks a pixel that is not finite.
std::vector<int> gray_levels(const float* pixels, std::size_t count, const GrayRange& range) {
  double low = range.low, high = range.high;
  if (range.per_tile) {
    low = std::numeric_limits<double>::infinity();
    high = -low;
    for (std::size_t i = 0; i < count; ++i)
      if (std::isfinite(pixels[i])) {
        low = std::min(low, static_cast<double>(pixels[i]));
        high = std::max(high, static_cast<double>(pixels[i]));
      }
  }
  std::vector<int> levels(count, -1);
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(pixels[i])) continue;
    const double t = high > low ? std::clamp((pixels[i] - low) / (high - low), 0.0, 1.0) : 0.5;
    levels[i] = static_cast<int>(std::lround(t * 255));
  }
  return levels;
}

/// Paints image `index` into `box`, enlarged `scale` times. `baked` whole
/// times of that enlargement are done here, pixel by pixel, the rest by Cairo.
void paint_image(cairo_t* cr, const ImageStack& images, std::size_t index, const GrayRange& range, const Box& box,
                 double scale, int baked) {
  const int width = static_cast<int>(images.width) * baked, height = static_cast<int>(images.height) * baked;
  SurfacePtr image(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height));
  if (cairo_surface_status(image.get()) != CAIRO_STATUS_SUCCESS)
    throw FigureError("cannot hold a " + std::to_string(width) + " x " + std::to_string(height) + " image");
  const std::size_t pixels = images.height * images.width;
  const std::vector<int> levels = gray_levels(images.pixels.data() + index * pixels, pixels, range);
  unsigned char* data = cairo_image_surface_get_data(image.get());
  const int stride = cairo_image_surface_get_stride(image.get());
  for (int y = 0; y < height; ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    const std::size_t source_row = static_cast<std::size_t>(y / baked) * images.width;
    for (int x = 0; x < width; ++x) {
      const int level = levels[source_row + static_cast<std::size_t>(x / baked)];
      const auto g = static_cast<std::uint32_t>(level < 0 ? 255 : level);
      row[x] = (g << 16) | (g << 8) | g;
    }
  }
  cairo_surface_mark_dirty(image.get());

  cairo_save(cr);
  cairo_rectangle(cr, box.x, box.y, box.width, box.height);
  cairo_clip(cr);
  cairo_translate(cr, box.x, box.y);
  cairo_scale(cr, scale / baked, scale / baked);
  cairo_set_source_surface(cr, image.get(), 0, 0);
  cairo_pattern_t* source = cairo_get_source(cr);
  // Enlarged images keep sharp pixels, like imshow; reduced ones are filtered.
  cairo_pattern_set_filter(source, scale >= 1 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  cairo_pattern_set_extend(source, CAIRO_EXTEND_PAD);
  cairo_paint(cr);
  cairo_restore(cr);
}

void draw_tiles(const ImageStack& images, const TileOptions& options, const std::string& path, RowLabelPlace place) {
  const TileScene scene = plan_tiles(measuring_context().get(), images, options, place);
  Canvas canvas(path, scene.layout.width, scene.layout.height);
  cairo_t* cr = canvas.context();
  // PNG and PDF keep the nearest-pixel filter (a PDF says /Interpolate false);
  // Cairo's SVG cannot say so and viewers would blur a small image, so an SVG
  // holds each image already enlarged.
  const int baked = format_from_path(path) == FileFormat::svg && scene.scale >= 1 ? static_cast<int>(scene.scale) : 1;
  for (std::size_t i = 0; i < scene.layout.tiles.size(); ++i)
    paint_image(cr, images, i, options.range, scene.layout.tiles[i], scene.scale, baked);
  cairo_set_source_rgb(cr, 0, 0, 0);
  for (const Label& label : scene.labels) draw_label(cr, label);
  canvas.save();
}

// -------------------------------------------------------------- line plot

struct Point {
  double x, y;
};

/// Maps data coordinates to figure pixels.
struct Axes {
  double left, top, right, bottom;  // the frame, in pixels
  double x_low, x_high, y_low, y_high;
  double px(double x) const { return left + (x - x_low) / (x_high - x_low) * (right - left); }
  double py(double y) const { return bottom - (y - y_low) / (y_high - y_low) * (bottom - top); }
};

/// A series as the figure needs it: at most its lowest and highest point in
/// each pixel column (in the order they occur), so a 100000-step curve looks
/// as if drawn in full yet stays small in a PDF or SVG. Values that are not
/// finite break the line.
std::vector<std::vector<Point>> trace(const std::vector<double>& values, double x_offset, const Axes& axes) {
  std::vector<std::vector<Point>> lines(1);
  bool open = false;  // a pixel column has points not yet emitted
  std::size_t lowest = 0, highest = 0;
  long column = 0;
  const auto emit = [&] {
    if (!open) return;
    const std::size_t a = std::min(lowest, highest), b = std::max(lowest, highest);
    lines.back().push_back({axes.px(static_cast<double>(a) + x_offset), axes.py(values[a])});
    if (b != a) lines.back().push_back({axes.px(static_cast<double>(b) + x_offset), axes.py(values[b])});
    open = false;
  };
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      emit();
      if (!lines.back().empty()) lines.emplace_back();
      continue;
    }
    const long c = std::lround(std::floor(axes.px(static_cast<double>(i) + x_offset)));
    if (open && c != column) emit();
    if (!open) {
      open = true;
      column = c;
      lowest = highest = i;
    }
    if (values[i] < values[lowest]) lowest = i;
    if (values[i] > values[highest]) highest = i;
  }
  emit();
  if (lines.back().empty()) lines.pop_back();
  return lines;
}

void stroke_lines(cairo_t* cr, const std::vector<std::vector<Point>>& lines, const Rgb& colour, double alpha,
                  double width) {
  for (const auto& line : lines) {
    if (line.size() < 2) continue;
    cairo_move_to(cr, line.front().x, line.front().y);
    for (std::size_t i = 1; i < line.size(); ++i) cairo_line_to(cr, line[i].x, line[i].y);
  }
  cairo_set_source_rgba(cr, colour.r, colour.g, colour.b, alpha);
  cairo_set_line_width(cr, width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke(cr);
}

struct LegendEntry {
  std::string label;
  Rgb colour;
  double alpha, width;
};

/// Draws the legend in the inner corner of the frame that hides the fewest
/// points (trying upper right first, as matplotlib's "best" does).
void draw_legend(cairo_t* cr, const std::vector<LegendEntry>& entries, const Axes& axes,
                 const std::vector<std::vector<std::vector<Point>>>& traces) {
  constexpr double padding = 6, sample = 28, inset = 8;
  const double row = line_height(cr, tick_label_size);
  double widest = 0;
  for (const auto& e : entries) widest = std::max(widest, text_width(cr, e.label, tick_label_size));
  const double width = std::ceil(2 * padding + sample + text_gap * 2 + widest);
  const double height = 2 * padding + row * static_cast<double>(entries.size());
  const std::array<Point, 4> corners{{{axes.right - inset - width, axes.top + inset},
                                      {axes.left + inset, axes.top + inset},
                                      {axes.left + inset, axes.bottom - inset - height},
                                      {axes.right - inset - width, axes.bottom - inset - height}}};
  std::size_t best = 0, fewest = std::numeric_limits<std::size_t>::max();
  for (std::size_t k = 0; k < corners.size(); ++k) {
    std::size_t hidden = 0;
    for (const auto& lines : traces)
      for (const auto& line : lines)
        for (const Point& p : line)
          hidden +=
              p.x >= corners[k].x && p.x <= corners[k].x + width && p.y >= corners[k].y && p.y <= corners[k].y + height;
    if (hidden < fewest) {
      fewest = hidden;
      best = k;
    }
  }
  const Point at = corners[best];
  cairo_rectangle(cr, at.x + 0.5, at.y + 0.5, width, height);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const double top = at.y + padding + row * static_cast<double>(i);
    const double middle = top + row / 2;
    cairo_move_to(cr, at.x + padding, middle);
    cairo_line_to(cr, at.x + padding + sample, middle);
    cairo_set_source_rgba(cr, entries[i].colour.r, entries[i].colour.g, entries[i].colour.b, entries[i].alpha);
    cairo_set_line_width(cr, entries[i].width);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    draw_label(cr, {entries[i].label, tick_label_size, at.x + padding + sample + 2 * text_gap, top, Align::left});
  }
}

/// [low, high] widened by 5% of its span on each side (matplotlib's margins);
/// a single value gets a span of its own.
std::pair<double, double> padded(double low, double high) {
  if (high > low) {
    const double pad = 0.05 * (high - low);
    return {low - pad, high + pad};
  }
  const double pad = low == 0 ? 1.0 : 0.05 * std::abs(low);
  return {low - pad, high + pad};
}

/// The fewest decimals (up to 12) that write multiples of `step` exactly.
int decimals_for(double step) {
  for (int d = 0; d < 12; ++d) {
    const double scaled = step * std::pow(10.0, d);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 12;
}

std::string tick_text(double value, int decimals, bool scientific) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, scientific ? "%.*e" : "%.*f", decimals, std::abs(value));
  return (value < 0 ? "\u2212" : "") + std::string(buffer);
}

}  // namespace

FileFormat format_from_path(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".png") return FileFormat::png;
  if (extension == ".pdf") return FileFormat::pdf;
  if (extension == ".svg") return FileFormat::svg;
  throw FigureError("'" + path + "' does not end in .png, .pdf or .svg");
}

TileLayout montage_layout(const ImageStack& images, const TileOptions& options) {
  return plan_tiles(measuring_context().get(), images, options, RowLabelPlace::above_row).layout;
}

void draw_montage(const ImageStack& images, const TileOptions& options, const std::string& path) {
  draw_tiles(images, options, path, RowLabelPlace::above_row);
}

TileLayout image_grid_layout(const ImageStack& images, const TileOptions& options) {
  return plan_tiles(measuring_context().get(), images, options, RowLabelPlace::left_of_row).layout;
}

void draw_image_grid(const ImageStack& images, const TileOptions& options, const std::string& path) {
  draw_tiles(images, options, path, RowLabelPlace::left_of_row);
}

std::vector<double> moving_average(const std::vector<float>& series, std::size_t window) {
  if (window == 0 || window > series.size())
    throw FigureError("a moving average over " + std::to_string(window) + " values needs 1 to " +
                      std::to_string(series.size()) + " (the series' length)");
  // Running sums in double: exact enough over 10^5 float values, and O(n).
  std::vector<double> sum(series.size() + 1, 0.0);
  std::vector<std::size_t> finite(series.size() + 1, 0);
  for (std::size_t i = 0; i < series.size(); ++i) {
    const bool ok = std::isfinite(series[i]);
    sum[i + 1] = sum[i] + (ok ? series[i] : 0.0);
    finite[i + 1] = finite[i] + (ok ? 1 : 0);
  }
  std::vector<double> averages(series.size() - window + 1);
  for (std::size_t i = 0; i < averages.size(); ++i) {
    const std::size_t n = finite[i + window] - finite[i];
    averages[i] = n ? (sum[i + window] - sum[i]) / static_cast<double>(n) : std::nan("");
  }
  return averages;
}

AxisTicks nice_ticks(double low, double high, int max_count) {
  if (!(low < high) || !std::isfinite(low) || !std::isfinite(high) || max_count < 2)
    throw FigureError("ticks need a finite range low < high and room for two");
  const double magnitude = std::pow(10.0, std::floor(std::log10((high - low) / max_count)));
  double step = 0;
  long first = 0, last = 0;
  for (double factor : {1.0, 2.0, 2.5, 5.0, 10.0, 20.0}) {
    step = factor * magnitude;
    first = std::lround(std::ceil(low / step - 1e-9));
    last = std::lround(std::floor(high / step + 1e-9));
    if (last - first + 1 <= max_count) break;
  }
  AxisTicks ticks;
  for (long k = first; k <= last; ++k) ticks.values.push_back(k == 0 ? 0.0 : static_cast<double>(k) * step);
  double largest = 0;
  for (double v : ticks.values) largest = std::max(largest, std::abs(v));
  // Past seven digits, or below 1e-4, plain decimals get unreadable.
  const bool scientific = largest >= 1e7 || step < 1e-4;
  const int decimals =
      decimals_for(scientific ? step / std::pow(10.0, std::floor(std::log10(std::max(largest, step)))) : step);
  for (double v : ticks.values) ticks.labels.push_back(tick_text(v, decimals, scientific));
  return ticks;
}

void draw_line_plot(const std::vector<float>& series, const LinePlotOptions& options, const std::string& path) {
  if (series.size() < 2) throw FigureError("a line plot needs at least 2 values, got " + std::to_string(series.size()));
  double y_min = std::numeric_limits<double>::infinity(), y_max = -y_min;
  for (float v : series)
    if (std::isfinite(v)) {
      y_min = std::min(y_min, static_cast<double>(v));
      y_max = std::max(y_max, static_cast<double>(v));
    }
  if (!(y_min <= y_max)) throw FigureError("the series has no finite value to plot");
  const std::vector<double> average =
      options.moving_average > 0 ? moving_average(series, options.moving_average) : std::vector<double>{};

  Axes axes{};
  std::tie(axes.x_low, axes.x_high) = padded(0, static_cast<double>(series.size() - 1));
  std::tie(axes.y_low, axes.y_high) = padded(y_min, y_max);
  const AxisTicks x_ticks = nice_ticks(axes.x_low, axes.x_high, 8);
  const AxisTicks y_ticks = nice_ticks(axes.y_low, axes.y_high, 7);

  ContextPtr meter = measuring_context();
  const double tick_height = line_height(meter.get(), tick_label_size);
  const double label_height = line_height(meter.get(), axis_label_size);
  double widest_y_tick = 0;
  for (const auto& l : y_ticks.labels)
    widest_y_tick = std::max(widest_y_tick, text_width(meter.get(), l, tick_label_size));
  axes.left = std::ceil(margin + (options.y_label.empty() ? 0 : label_height + 2 * text_gap) + widest_y_tick +
                        text_gap + tick_length);
  // Room for half the last x tick label, which may stand at the frame's right edge.
  axes.right =
      line_plot_width -
      std::ceil(std::max(margin, text_width(meter.get(), x_ticks.labels.back(), tick_label_size) / 2 + text_gap));
  axes.top = margin + (options.title.empty() ? 0 : line_height(meter.get(), figure_title_size) + 2 * text_gap);
  axes.bottom = line_plot_height - std::ceil(margin + (options.x_label.empty() ? 0 : label_height + text_gap) +
                                             tick_height + text_gap + tick_length);

  Canvas canvas(path, line_plot_width, line_plot_height);
  cairo_t* cr = canvas.context();

  const std::vector<double> values(series.begin(), series.end());
  std::vector<std::vector<std::vector<Point>>> traces{trace(values, 0, axes)};
  if (!average.empty()) traces.push_back(trace(average, (static_cast<double>(options.moving_average) - 1) / 2, axes));
  cairo_save(cr);
  cairo_rectangle(cr, axes.left, axes.top, axes.right - axes.left, axes.bottom - axes.top);
  cairo_clip(cr);
  // The raw series fades behind its moving average.
  stroke_lines(cr, traces[0], series_colour, average.empty() ? 0.9 : 0.45, 1.25);
  if (!average.empty()) stroke_lines(cr, traces[1], average_colour, 1.0, 2.0);
  cairo_restore(cr);

  // Frame and ticks on half pixels, so 1-pixel lines stay sharp in the PNG.
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, axes.left + 0.5, axes.top + 0.5, axes.right - axes.left, axes.bottom - axes.top);
  for (double v : x_ticks.values) {
    const double x = std::round(axes.px(v)) + 0.5;
    cairo_move_to(cr, x, axes.bottom + 0.5);
    cairo_line_to(cr, x, axes.bottom + 0.5 + tick_length);
  }
  for (double v : y_ticks.values) {
    const double y = std::round(axes.py(v)) + 0.5;
    cairo_move_to(cr, axes.left + 0.5, y);
    cairo_line_to(cr, axes.left + 0.5 - tick_length, y);
  }
  cairo_stroke(cr);
  const double x_tick_top = axes.bottom + tick_length + text_gap;
  for (std::size_t i = 0; i < x_ticks.values.size(); ++i)
    draw_label(cr, {x_ticks.labels[i], tick_label_size, axes.px(x_ticks.values[i]), x_tick_top, Align::centre});
  for (std::size_t i = 0; i < y_ticks.values.size(); ++i)
    draw_label(cr, {y_ticks.labels[i], tick_label_size, axes.left - tick_length - text_gap,
                    axes.py(y_ticks.values[i]) - tick_height / 2, Align::right});
  if (!options.x_label.empty())
    draw_label(cr, {options.x_label, axis_label_size, (axes.left + axes.right) / 2, x_tick_top + tick_height + text_gap,
                    Align::centre});
  if (!options.y_label.empty())
    draw_upward_label(cr, options.y_label, axis_label_size, margin, (axes.top + axes.bottom) / 2);
  if (!options.title.empty())
    draw_label(cr, {options.title, figure_title_size, (axes.left + axes.right) / 2, margin, Align::centre});
  if (!average.empty())
    draw_legend(cr,
                {{options.y_label.empty() ? "values" : options.y_label, series_colour, 0.45, 1.25},
                 {"moving average (" + std::to_string(options.moving_average) + ")", average_colour, 1.0, 2.0}},
                axes, traces);
  canvas.save();
}

}  // namespace fepflow::render
