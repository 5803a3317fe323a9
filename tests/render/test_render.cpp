// The render stage and its drawing functions: file formats, layouts, pixel
// values, ticks, moving averages, title patterns and input validation.
#include <catch2/catch.hpp>

#include "render/figure.hpp"
#include "render/title_format.hpp"
#include "support.hpp"

#include <fepflow/testing.hpp>

#include <cairo.h>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>

using fepflow::ParamValue;
using fepflow::Value;
using fepflow::render::ImageStack;
using fepflow::render::TileOptions;
using fepflow::test::read_file;
using fepflow::test::ScratchDir;

namespace {

using Params = std::map<std::string, ParamValue>;
using Inputs = std::map<std::string, Value>;

fepflow::testing::StageResult render(const Params& params, const Inputs& inputs) {
  return fepflow::testing::run_stage("render", params, inputs);
}

/// N x H x W images whose image i is the constant values[i].
xt::xarray<float> constant_images(const std::vector<float>& values, std::size_t height, std::size_t width) {
  xt::xarray<float> images = xt::zeros<float>({values.size(), height, width});
  for (std::size_t i = 0; i < values.size(); ++i) xt::view(images, i) = values[i];
  return images;
}

ImageStack stack_of(const xt::xarray<float>& images) {
  return {std::vector<float>(images.begin(), images.end()), images.shape()[0], images.shape()[1], images.shape()[2]};
}

struct PngSize {
  std::uint32_t width, height;
};

/// Checks the PNG signature and reads the IHDR chunk's width and height.
PngSize png_size(const std::string& path) {
  const std::string bytes = read_file(path);
  REQUIRE(bytes.size() > 24);
  REQUIRE(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  REQUIRE(bytes.compare(12, 4, "IHDR") == 0);
  const auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(bytes[at + k]);
    return v;
  };
  return {be32(16), be32(20)};
}

struct Rgb {
  int r, g, b;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

/// A PNG read back with Cairo, for looking at single pixels.
class Png {
 public:
  explicit Png(const std::string& path) : surface_(cairo_image_surface_create_from_png(path.c_str())) {
    REQUIRE(cairo_surface_status(surface_) == CAIRO_STATUS_SUCCESS);
  }
  ~Png() { cairo_surface_destroy(surface_); }
  Png(const Png&) = delete;
  Png& operator=(const Png&) = delete;

  int width() const { return cairo_image_surface_get_width(surface_); }
  int height() const { return cairo_image_surface_get_height(surface_); }
  Rgb at(double x, double y) const {
    const unsigned char* data = cairo_image_surface_get_data(surface_);
    const int stride = cairo_image_surface_get_stride(surface_);
    const auto pixel =
        *reinterpret_cast<const std::uint32_t*>(data + static_cast<int>(y) * stride + static_cast<int>(x) * 4);
    return {static_cast<int>((pixel >> 16) & 255), static_cast<int>((pixel >> 8) & 255), static_cast<int>(pixel & 255)};
  }
  Rgb centre_of(const fepflow::render::Box& box) const { return at(box.x + box.width / 2, box.y + box.height / 2); }
  /// Pixels whose colour `pick` accepts.
  template <class Pick>
  std::size_t count(Pick pick) const {
    std::size_t n = 0;
    for (int y = 0; y < height(); ++y)
      for (int x = 0; x < width(); ++x) n += pick(at(x, y));
    return n;
  }

 private:
  cairo_surface_t* surface_;
};

Rgb gray(int level) { return {level, level, level}; }

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  return names;
}

}  // namespace

TEST_CASE("a montage is a PNG whose size and tiles follow the layout", "[render]") {
  ScratchDir dir;
  const auto images = constant_images({-1, -0.5f, 0, 0.5f, 1, -1, -0.5f, 0, 0.5f, 1}, 8, 8);
  const std::string path = dir.path("faces.png");
  const auto result = render({{"file", path}, {"columns", std::int64_t{5}}, {"title", std::string("Faces")}},
                             {{"images", Value(images)}});
  CHECK(result.output("file").str() == path);

  TileOptions options;
  options.columns = 5;
  options.title = "Faces";
  const auto layout = fepflow::render::montage_layout(stack_of(images), options);
  const PngSize size = png_size(path);
  CHECK(size.width == layout.width);
  CHECK(size.height == layout.height);

  // 8-pixel images enlarge by a whole factor to 200-pixel tiles, in 2 rows of 5.
  REQUIRE(layout.tiles.size() == 10);
  std::set<double> xs, ys;
  for (const auto& tile : layout.tiles) {
    CHECK(tile.width == 200);
    CHECK(tile.height == 200);
    xs.insert(tile.x);
    ys.insert(tile.y);
  }
  CHECK(xs.size() == 5);
  CHECK(ys.size() == 2);
  CHECK(layout.tiles[5].x == layout.tiles[0].x);
  CHECK(layout.tiles[5].y > layout.tiles[0].y + 200);
  CHECK(layout.width >= 5 * 200);

  // Fixed range [-1, 1]: -1 black, 1 white, 0 mid-gray, in input order.
  const Png png(path);
  CHECK(png.centre_of(layout.tiles[0]) == gray(0));
  CHECK(png.centre_of(layout.tiles[1]) == gray(64));
  CHECK(png.centre_of(layout.tiles[2]) == gray(128));
  CHECK(png.centre_of(layout.tiles[4]) == gray(255));
  CHECK(png.centre_of(layout.tiles[5]) == gray(0));
}

TEST_CASE("large images shrink to fit a figure about 1000 pixels wide", "[render]") {
  const ImageStack matrix{std::vector<float>(600 * 1200, 0.0f), 1, 600, 1200};
  TileOptions options;
  options.columns = 1;
  const auto one = fepflow::render::montage_layout(matrix, options).tiles.at(0);
  CHECK(one.width == 1000);
  CHECK(one.height == 500);
  const ImageStack two{std::vector<float>(2 * 300 * 300, 0.0f), 2, 300, 300};
  options.columns = 2;
  CHECK(fepflow::render::montage_layout(two, options).tiles.at(0).width == 300);  // never enlarged by less than 1
}

TEST_CASE("the gray range is fixed, clamped, or automatic per tile", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("range.png");
  // One image: left half 10, right half 20, one NaN pixel in the corner.
  xt::xarray<float> image = xt::zeros<float>({std::size_t{1}, std::size_t{4}, std::size_t{4}});
  xt::view(image, 0, xt::all(), xt::range(0, 2)) = 10.0f;
  xt::view(image, 0, xt::all(), xt::range(2, 4)) = 20.0f;
  image(0, 0, 0) = std::nanf("");
  TileOptions options;
  options.columns = 1;
  const auto tile = fepflow::render::montage_layout(stack_of(image), options).tiles.at(0);
  const double left = tile.x + tile.width * 0.375, right = tile.x + tile.width * 0.625,
               middle = tile.y + tile.height / 2;
  const double corner = tile.x + tile.width * 0.1;

  SECTION("automatic: each tile from its own minimum to maximum") {
    render({{"file", path}, {"auto_range", true}}, {{"images", Value(image)}});
    const Png png(path);
    CHECK(png.at(left, middle) == gray(0));
    CHECK(png.at(right, middle) == gray(255));
    CHECK(png.at(corner, tile.y + tile.height * 0.1) == gray(255));  // NaN shows the background
  }
  SECTION("fixed: values outside the range clamp to black and white") {
    render({{"file", path}, {"vmin", 12.0}, {"vmax", 16.0}}, {{"images", Value(image)}});
    const Png png(path);
    CHECK(png.at(left, middle) == gray(0));
    CHECK(png.at(right, middle) == gray(255));
  }
  SECTION("fixed: a value inside the range is proportionally gray") {
    render({{"file", path}, {"vmin", 0.0}, {"vmax", 40.0}}, {{"images", Value(image)}});
    const Png png(path);
    CHECK(png.at(left, middle) == gray(64));    // 10 / 40 of 255
    CHECK(png.at(right, middle) == gray(128));  // 20 / 40 of 255
  }
}

TEST_CASE("flat pixels take their shape from the parameter or a square", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("flat.png");
  // Two 2 x 8 images, flat: the first all -1, the second all 1.
  xt::xarray<float> flat = xt::zeros<float>({std::size_t{2}, std::size_t{16}});
  xt::view(flat, 0) = -1.0f;
  xt::view(flat, 1) = 1.0f;
  render({{"file", path}, {"shape", std::vector<std::int64_t>{2, 8}}}, {{"images", Value(flat)}});
  ImageStack stack{std::vector<float>(flat.begin(), flat.end()), 2, 2, 8};
  TileOptions options;
  options.columns = 2;  // ceil(sqrt(2))
  const auto layout = fepflow::render::montage_layout(stack, options);
  CHECK(layout.tiles.at(0).width == 4 * layout.tiles.at(0).height);
  const PngSize size = png_size(path);
  CHECK(size.width == layout.width);
  CHECK(size.height == layout.height);
  const Png png(path);
  CHECK(png.centre_of(layout.tiles[0]) == gray(0));
  CHECK(png.centre_of(layout.tiles[1]) == gray(255));

  // 16 pixels make a 4 x 4 square without a shape.
  render({{"file", path}}, {{"images", Value(flat)}});
  stack.height = stack.width = 4;
  CHECK(png_size(path).width == fepflow::render::montage_layout(stack, options).width);
}

TEST_CASE("select picks and orders the images, max_items caps them, columns lays them out", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("select.png");
  const std::vector<float> levels{-1, -0.5f, 0, 0.5f, 1, 0.25f, -0.25f};
  const auto images = constant_images(levels, 6, 6);
  const xt::xarray<std::int64_t> chosen{4, 0, 2, 6, 1};
  render({{"file", path}, {"columns", std::int64_t{2}}, {"max_items", std::int64_t{4}}},
         {{"images", Value(images)}, {"select", Value(chosen)}});

  const xt::xarray<float> shown_images = constant_images({1, -1, 0, -0.25f}, 6, 6);
  TileOptions options;
  options.columns = 2;
  const auto layout = fepflow::render::montage_layout(stack_of(shown_images), options);
  REQUIRE(layout.tiles.size() == 4);
  CHECK(layout.tiles[2].x == layout.tiles[0].x);  // 2 per row
  CHECK(layout.tiles[2].y > layout.tiles[0].y);
  const PngSize size = png_size(path);
  CHECK(size.width == layout.width);
  CHECK(size.height == layout.height);
  const Png png(path);
  CHECK(png.centre_of(layout.tiles[0]) == gray(255));  // image 4
  CHECK(png.centre_of(layout.tiles[1]) == gray(0));    // image 0
  CHECK(png.centre_of(layout.tiles[2]) == gray(128));  // image 2
  CHECK(png.centre_of(layout.tiles[3]) == gray(96));   // image 6: -0.25
}

TEST_CASE("scores title every tile, or the last tiles when there are fewer", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("pairs.png");
  // Patterns over attractors: 2 x 6 x 8 x 8, r under the attractors only.
  xt::xarray<float> pairs = xt::zeros<float>({std::size_t{2}, std::size_t{6}, std::size_t{8}, std::size_t{8}});
  const xt::xarray<float> r{0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f};
  render({{"file", path}, {"title_format", std::string("r = {:.2f}")}},
         {{"images", Value(pairs)}, {"scores", Value(r)}});

  ImageStack stack{std::vector<float>(pairs.begin(), pairs.end()), 12, 8, 8};
  TileOptions options;
  options.columns = 6;  // the second leading axis
  options.tile_titles.assign(12, "");
  for (std::size_t i = 6; i < 12; ++i) options.tile_titles[i] = "r = 0.50";
  const auto titled_last_row = fepflow::render::montage_layout(stack, options);
  CHECK(png_size(path).height == titled_last_row.height);
  CHECK(png_size(path).width == titled_last_row.width);

  // One score per image titles every row: a taller figure.
  const xt::xarray<float> all = xt::ones<float>({std::size_t{12}});
  render({{"file", path}}, {{"images", Value(pairs)}, {"scores", Value(all)}});
  options.tile_titles.assign(12, "1.00");
  const auto titled_everywhere = fepflow::render::montage_layout(stack, options);
  CHECK(png_size(path).height == titled_everywhere.height);
  CHECK(titled_everywhere.height > titled_last_row.height);
}

TEST_CASE("a grid puts row labels at the left and column labels on top", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("grid.png");
  // 4 x 5 cells; cell (r, c) is the constant (r * 5 + c) / 19 * 2 - 1.
  xt::xarray<float> cells = xt::zeros<float>({std::size_t{4}, std::size_t{5}, std::size_t{8}, std::size_t{8}});
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 5; ++c) xt::view(cells, r, c) = static_cast<float>(r * 5 + c) / 19.0f * 2 - 1;
  const std::vector<std::string> rows{"signal 0.1", "signal 0.2", "signal 0.3", "signal 0.4"};
  const std::vector<std::string> columns{"beta 0.4", "beta 0.6", "beta 0.8", "beta 1.0", "beta 1.2"};
  render({{"file", path}, {"kind", std::string("grid")}, {"row_labels", rows}, {"column_labels", columns}},
         {{"images", Value(cells)}});

  ImageStack stack{std::vector<float>(cells.begin(), cells.end()), 20, 8, 8};
  TileOptions options;
  options.columns = 5;
  options.row_labels = rows;
  options.column_labels = columns;
  const auto grid = fepflow::render::image_grid_layout(stack, options);
  const PngSize size = png_size(path);
  CHECK(size.width == grid.width);
  CHECK(size.height == grid.height);
  REQUIRE(grid.tiles.size() == 20);
  // The labels take room at the left and on top that a bare grid does not have.
  options.row_labels.clear();
  options.column_labels.clear();
  const auto bare = fepflow::render::image_grid_layout(stack, options);
  CHECK(grid.tiles[0].x > bare.tiles[0].x);
  CHECK(grid.tiles[0].y > bare.tiles[0].y);

  const Png png(path);
  CHECK(png.centre_of(grid.tiles[0]) == gray(0));
  CHECK(png.centre_of(grid.tiles[19]) == gray(255));
  CHECK(png.centre_of(grid.tiles[7]).r == static_cast<int>(std::lround((7.0 / 19.0) * 255)));
  // The label column at the left holds dark text pixels; the bare grid's margin is white.
  std::size_t dark = 0;
  for (double y = grid.tiles[0].y; y < grid.tiles[0].y + grid.tiles[0].height; ++y)
    for (double x = 0; x < grid.tiles[0].x; ++x) dark += png.at(x, y).r < 128;
  CHECK(dark > 20);
}

TEST_CASE("the extension picks PNG, PDF or SVG", "[render]") {
  ScratchDir dir;
  const auto images = constant_images({-1, 1, 0}, 8, 8);
  const xt::xarray<float> series = xt::linspace<float>(0, 1, 50);
  for (const std::string extension : {"pdf", "svg", "PDF"}) {
    const std::string montage = dir.path("montage." + extension), line = dir.path("line." + extension);
    render({{"file", montage}, {"title", std::string("three")}}, {{"images", Value(images)}});
    render({{"file", line}, {"title", std::string("a line")}}, {{"images", Value(series)}});
    for (const auto& path : {montage, line}) {
      const std::string text = read_file(path);
      if (extension == "svg")
        CHECK(text.find("<svg") != std::string::npos);
      else
        CHECK(text.compare(0, 4, "%PDF") == 0);
    }
  }
  // Viewers blur a small image enlarged in an SVG: it holds the 8-pixel images enlarged to 200.
  const std::string svg = read_file(dir.path("montage.svg"));
  const std::size_t image = svg.find("<image ");
  REQUIRE(image != std::string::npos);
  const std::string tag = svg.substr(image, svg.find('>', image) - image);
  CHECK_THAT(tag, Catch::Contains("width=\"200\" height=\"200\""));
}

TEST_CASE("a line plot draws the series and its moving average", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("vfe.png");
  xt::xarray<float> vfe = xt::zeros<float>({std::size_t{5000}});
  for (std::size_t i = 0; i < vfe.size(); ++i)
    vfe(i) = static_cast<float>(-100.0 * std::exp(-static_cast<double>(i) / 1000.0) + 20.0 * std::sin(i * 1.7));
  const auto is_blue = [](const Rgb& c) { return c.b > c.r + 40 && c.b > 120; };
  const auto is_orange = [](const Rgb& c) { return c.r > 200 && c.g > 80 && c.g < 200 && c.b < 100; };

  render({{"file", path}, {"x_label", std::string("Training step")}, {"y_label", std::string("VFE")}},
         {{"images", Value(vfe)}});
  const PngSize size = png_size(path);
  CHECK(size.width == 960);
  CHECK(size.height == 400);
  {
    const Png png(path);
    CHECK(png.count(is_blue) > 5000);
    CHECK(png.count(is_orange) == 0);
  }

  render({{"file", path}, {"moving_average", std::int64_t{200}}, {"title", std::string("Training VFE")}},
         {{"images", Value(vfe)}});
  const Png png(path);
  CHECK(png.count(is_blue) > 1000);
  CHECK(png.count(is_orange) > 1000);
}

TEST_CASE("a line plot leaves gaps at NaN and works with the minimum of two values", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("gaps.svg");
  const xt::xarray<float> series{1.0f, 2.0f, std::nanf(""), 3.0f, 4.0f};
  render({{"file", path}}, {{"images", Value(series)}});
  CHECK(read_file(path).find("<svg") != std::string::npos);
  render({{"file", dir.path("two.png")}}, {{"images", Value(xt::xarray<float>{1.0f, 1.0f})}});
  CHECK(png_size(dir.path("two.png")).width == 960);
}

TEST_CASE("the moving average has one value per full window and skips NaN", "[render]") {
  const std::vector<float> series{1, 2, 3, 4, 5, 6};
  const auto average = fepflow::render::moving_average(series, 3);
  REQUIRE(average.size() == 4);
  CHECK(average[0] == Approx(2));
  CHECK(average[3] == Approx(5));
  CHECK(fepflow::render::moving_average(series, 1).size() == 6);
  CHECK(fepflow::render::moving_average(series, 6).size() == 1);
  CHECK(fepflow::render::moving_average(std::vector<float>(100000, 1.0f), 1000).size() == 99001);

  const std::vector<float> gappy{1, std::nanf(""), 3, std::nanf(""), std::nanf(""), 8};
  const auto skipped = fepflow::render::moving_average(gappy, 2);
  REQUIRE(skipped.size() == 5);
  CHECK(skipped[0] == Approx(1));
  CHECK(skipped[1] == Approx(3));
  CHECK(std::isnan(skipped[3]));
  CHECK(skipped[4] == Approx(8));

  CHECK_THROWS_AS(fepflow::render::moving_average(series, 7), fepflow::render::FigureError);
  CHECK_THROWS_AS(fepflow::render::moving_average(series, 0), fepflow::render::FigureError);
}

TEST_CASE("ticks are round numbers within the range, labelled with the decimals they need", "[render]") {
  const auto steps = fepflow::render::nice_ticks(-5000, 105000, 8);
  CHECK(steps.values == std::vector<double>{0, 20000, 40000, 60000, 80000, 100000});
  CHECK(steps.labels == std::vector<std::string>{"0", "20000", "40000", "60000", "80000", "100000"});

  const auto quarters = fepflow::render::nice_ticks(-1.2, 0.3, 7);
  CHECK(quarters.labels ==
        std::vector<std::string>{"\u22121.00", "\u22120.75", "\u22120.50", "\u22120.25", "0.00", "0.25"});

  const auto small = fepflow::render::nice_ticks(0.0, 1e-5, 6);
  CHECK(small.labels.front() == "0.0e+00");
  CHECK(small.values.size() >= 3);
  for (double v : small.values) CHECK((v >= 0 && v <= 1e-5));

  CHECK_THROWS_AS(fepflow::render::nice_ticks(1, 1, 5), fepflow::render::FigureError);
}

TEST_CASE("title patterns show the score and the tile's number", "[render]") {
  using fepflow::render::TitleFormat;
  CHECK(TitleFormat("r = {:.2f}").format(0.8312, 1) == "r = 0.83");
  CHECK(TitleFormat("r = {:.2f}").format(-0.004, 1) == "r = -0.00");
  CHECK(TitleFormat("{:.0f} restarts").format(12.4, 1) == "12 restarts");
  CHECK(TitleFormat("Attractor {index}").format(0, 3) == "Attractor 3");
  CHECK(TitleFormat("{{{}}}").format(0.5, 1) == "{0.5}");
  CHECK(TitleFormat("Attractor {index}").uses_score() == false);
  CHECK(TitleFormat("{}").uses_score());
  CHECK_THROWS_WITH(TitleFormat("{:.2e}"), Catch::Contains("unknown placeholder '{:.2e}'"));
  CHECK_THROWS_WITH(TitleFormat("r = {"), Catch::Contains("never closed"));
  CHECK_THROWS_WITH(TitleFormat("r = }"), Catch::Contains("lone '}'"));
}

TEST_CASE("bad inputs and parameters fail with the parameter or input named", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("bad.png");
  const auto faces = constant_images({0, 1, -1}, 8, 8);
  const Inputs three_faces{{"images", Value(faces)}};
  const auto fails = [&](const Params& params, const Inputs& inputs, const std::string& message) {
    CHECK_THROWS_WITH(render(params, inputs), Catch::Contains(message));
  };

  fails({{"file", dir.path("bad.jpg")}}, three_faces, "parameter 'file'");
  fails({{"file", dir.path("bad.jpg")}}, three_faces, "does not end in .png, .pdf or .svg");
  fails({{"file", path}, {"kind", std::string("pie")}}, three_faces, "parameter 'kind' must be one of");
  fails({{"file", path}, {"kind", std::string("line")}}, three_faces,
        "kind 'line' plots a rank-1 series; input 'images' is float32[3, 8, 8]");
  fails({{"file", path}, {"kind", std::string("montage")}}, {{"images", Value(xt::xarray<float>{1.0f, 2.0f})}},
        "kind 'montage' draws images");
  fails({{"file", path}, {"shape", std::vector<std::int64_t>{10, 10}}}, three_faces,
        "parameter 'shape' [10, 10] does not fit: input 'images' is float32[3, 8, 8]");
  fails({{"file", path}, {"shape", std::vector<std::int64_t>{64}}}, three_faces, "parameter 'shape' must be [H, W]");
  fails({{"file", path}}, {{"images", Value(xt::xarray<float>(xt::zeros<float>({std::size_t{3}, std::size_t{10}})))}},
        "set parameter 'shape' to [H, W]");
  const xt::xarray<float> nan_images = constant_images({std::nanf(""), std::nanf("")}, 4, 4);
  fails({{"file", path}}, {{"images", Value(nan_images)}}, "no finite value");
  fails({{"file", path}}, {{"images", Value(xt::xarray<float>{std::nanf(""), std::nanf("")})}}, "no finite value");
  fails({{"file", path}, {"vmin", 1.0}, {"vmax", -1.0}}, three_faces,
        "parameter 'vmax' (-1.0) must be greater than 'vmin' (1.0)");
  fails({{"file", path}, {"columns", std::int64_t{3}}, {"row_labels", std::vector<std::string>{"a", "b"}}}, three_faces,
        "parameter 'row_labels' has 2 labels but the figure has 1 row (3 images, 3 per row)");
  fails({{"file", path}, {"columns", std::int64_t{3}}, {"column_labels", std::vector<std::string>{"a"}}}, three_faces,
        "parameter 'column_labels' has 1 label but the figure has 3 columns");
  fails({{"file", path}}, {{"images", Value(faces)}, {"select", Value(xt::xarray<std::int64_t>{0, 3})}},
        "input 'select' [1] is 3, out of range: input 'images' holds 3 images (0 to 2)");
  fails({{"file", path}}, {{"images", Value(faces)}, {"scores", Value(xt::xarray<float>{1, 2, 3, 4})}},
        "input 'scores' holds 4 values: expected one per image (3) or at most one per tile shown (3)");
  fails({{"file", path}, {"title_format", std::string("r = {:.2f}")}}, three_faces, "input 'scores' is not connected");
  fails({{"file", path}, {"title_format", std::string("r = {:x}")}}, three_faces, "parameter 'title_format'");
  fails({{"file", path}, {"moving_average", std::int64_t{10}}}, {{"images", Value(xt::xarray<float>{1, 2, 3})}},
        "parameter 'moving_average' is 10 but the series has only 3 values");
  fails({{"file", path}}, {{"images", Value(xt::xarray<float>{1.0f})}}, "a line plot needs 2 or more");
  fails({{"file", path}, {"kind", std::string("line")}},
        {{"images", Value(xt::xarray<float>{1, 2})}, {"select", Value(xt::xarray<std::int64_t>{0})}},
        "kind 'line' uses neither input 'scores' nor input 'select'");
  CHECK(files_in(dir.dir()).empty());

  try {
    render({{"file", path}, {"shape", std::vector<std::int64_t>{10, 10}}}, three_faces);
    FAIL("expected an error");
  } catch (const fepflow::ParamError& e) {
    CHECK(e.param() == "shape");
  }
}

TEST_CASE("a failed render leaves no partial file and keeps the old figure", "[render]") {
  ScratchDir dir;
  const std::string path = dir.path("kept.png");
  fepflow::test::write_file(path, "the old figure");
  const xt::xarray<float> nan_images = constant_images({std::nanf("")}, 4, 4);
  CHECK_THROWS(render({{"file", path}}, {{"images", Value(nan_images)}}));
  CHECK(read_file(path) == "the old figure");

  // A figure that cannot be renamed into place (a folder is in the way): its temporary file goes.
  const std::string blocked = dir.path("blocked.pdf");
  std::filesystem::create_directory(blocked);
  const auto faces = constant_images({0, 1}, 8, 8);
  CHECK_THROWS_WITH(render({{"file", blocked}}, {{"images", Value(faces)}}),
                    Catch::Contains("cannot render '" + blocked + "'"));
  CHECK(files_in(dir.dir()).size() == 2);
  CHECK(std::filesystem::is_directory(blocked));
}

TEST_CASE("the same data give the same PNG bytes, and missing folders are made", "[render]") {
  ScratchDir dir;
  const auto faces = constant_images({0, 0.3f, -0.7f}, 16, 16);
  const std::string first = dir.path("a/b/one.png"), second = dir.path("two.png");
  const Params params{{"title", std::string("Faces")}, {"title_format", std::string("face {index}")}};
  Params p1 = params, p2 = params;
  p1["file"] = first;
  p2["file"] = second;
  render(p1, {{"images", Value(faces)}});
  render(p2, {{"images", Value(faces)}});
  CHECK(read_file(first) == read_file(second));
}

namespace {

/// `count` 64 x 64 face-like patterns (a bright oval, dark eyes and mouth,
/// noise), z-scored like the faces pipeline's: synthetic data for the samples.
xt::xarray<float> synthetic_faces(std::size_t count, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> noise(0, 0.25f);
  std::uniform_real_distribution<float> jitter(-4, 4);
  xt::xarray<float> faces = xt::zeros<float>({count, std::size_t{64}, std::size_t{64}});
  for (std::size_t i = 0; i < count; ++i) {
    const float cx = 32 + jitter(random), cy = 30 + jitter(random), width = 20 + jitter(random);
    for (std::size_t y = 0; y < 64; ++y)
      for (std::size_t x = 0; x < 64; ++x) {
        const float dx = (static_cast<float>(x) - cx) / width, dy = (static_cast<float>(y) - cy) / (width * 1.3f);
        float v = dx * dx + dy * dy < 1 ? 0.8f : 0.2f + 0.004f * static_cast<float>(y);
        for (float ex : {-0.4f, 0.4f})
          if (std::hypot(dx - ex, dy + 0.25f) < 0.15f) v = 0.1f;
        if (std::abs(dx) < 0.35f && std::abs(dy - 0.5f) < 0.05f) v = 0.2f;
        faces(i, y, x) = v + noise(random);
      }
    auto face = xt::view(faces, i);
    const float mean = xt::mean(face)(), sd = xt::stddev(face)();
    face = (face - mean) / (sd + 1e-8f);
  }
  return faces;
}

}  // namespace

// Not run by default: writes the notebook's figures from synthetic data into
// build/render-samples/ (or $FEPFLOW_RENDER_SAMPLES) for a person to look at.
TEST_CASE("sample figures shaped like the notebook's", "[.][render-samples]") {
  const char* env = std::getenv("FEPFLOW_RENDER_SAMPLES");
  const std::string dir = env ? env : std::string(FEPFLOW_BINARY_DIR) + "/render-samples";
  std::filesystem::create_directories(dir);
  std::mt19937 random(7);
  std::normal_distribution<float> normal(0, 1);

  const auto faces = synthetic_faces(10, 1);
  for (const std::string extension : {"png", "svg", "pdf"})
    render({{"file", dir + "/faces." + extension},
            {"columns", std::int64_t{5}},
            {"title", std::string("Example stored face patterns")}},
           {{"images", Value(faces)}});

  xt::xarray<float> vfe = xt::zeros<float>({std::size_t{100000}});
  for (std::size_t i = 0; i < vfe.size(); ++i)
    vfe(i) = static_cast<float>(-2500 + 1500 * std::exp(-static_cast<double>(i) / 15000.0)) + 120 * normal(random);
  for (const std::string extension : {"png", "svg", "pdf"})
    render({{"file", dir + "/vfe." + extension},
            {"title", std::string("Training VFE")},
            {"x_label", std::string("Training step")},
            {"y_label", std::string("VFE")},
            {"moving_average", std::int64_t{1000}}},
           {{"images", Value(vfe)}});

  const auto patterns = synthetic_faces(6, 2);
  xt::xarray<float> pairs = xt::zeros<float>({std::size_t{2}, std::size_t{6}, std::size_t{64}, std::size_t{64}});
  xt::view(pairs, 0) = patterns;
  xt::view(pairs, 1) = xt::tanh(1.5f * patterns + 0.3f * synthetic_faces(6, 3));
  const xt::xarray<float> r{0.93f, 0.41f, 0.88f, 0.67f, 0.95f, 0.12f};
  render({{"file", dir + "/attractors.png"},
          {"title", std::string("Stored patterns vs fixed-point attractors (free run)")},
          {"row_labels", std::vector<std::string>{"Stored pattern", "Attractor"}},
          {"title_format", std::string("r = {:.2f}")}},
         {{"images", Value(pairs)}, {"scores", Value(r)}});

  const xt::xarray<float> unique = xt::tanh(2.0f * synthetic_faces(52, 4));
  render({{"file", dir + "/unique.png"},
          {"columns", std::int64_t{5}},
          {"max_items", std::int64_t{30}},
          {"title_format", std::string("Attractor {index}")},
          {"title", std::string("Unique attractors (noise init \u2192 deterministic relaxation)")}},
         {{"images", Value(unique)}});

  xt::xarray<float> gallery = xt::zeros<float>({std::size_t{5}, std::size_t{5}, std::size_t{64}, std::size_t{64}});
  const auto originals = synthetic_faces(5, 5);
  xt::view(gallery, 0) = originals;
  xt::view(gallery, 1) = 2.0f * (originals + 0.5f * synthetic_faces(5, 6));
  for (std::size_t row = 2; row < 5; ++row)
    xt::view(gallery, row) = xt::tanh(static_cast<float>(row - 1) * 0.5f * originals);
  render({{"file", dir + "/gallery.png"},
          {"auto_range", true},
          {"title", std::string("Reconstruction from noisy face input (noise 0.5)")},
          {"row_labels", std::vector<std::string>{"Original", "Noisy input",
                                                  "Reconstructed (prior precision 0.4, likelihood precision 2.0)",
                                                  "Reconstructed (prior precision 0.7, likelihood precision 1.0)",
                                                  "Reconstructed (prior precision 1.0, likelihood precision 0.5)"}}},
         {{"images", Value(gallery)}});

  xt::xarray<float> grid = xt::zeros<float>({std::size_t{4}, std::size_t{5}, std::size_t{64}, std::size_t{64}});
  const auto one = synthetic_faces(1, 8);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 5; ++j)
      xt::view(grid, i, j) =
          xt::tanh((0.3f + 0.4f * static_cast<float>(i) + 0.2f * static_cast<float>(j)) * xt::view(one, 0));
  render({{"file", dir + "/precision.png"},
          {"kind", std::string("grid")},
          {"title", std::string("Reconstruction: prior vs likelihood precision (one random face)")},
          {"row_labels", std::vector<std::string>{"signal 0.1", "signal 0.2", "signal 0.3", "signal 0.4"}},
          {"column_labels",
           std::vector<std::string>{"\u03b2 0.4", "\u03b2 0.6", "\u03b2 0.8", "\u03b2 1.0", "\u03b2 1.2"}}},
         {{"images", Value(grid)}});
  SUCCEED("figures in " + dir);
}
