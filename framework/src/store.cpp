#include "store.hpp"

#include <fepflow/io.hpp>
#include <fepflow/stage.hpp>

#include <hdf5.h>
#include <zlib.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <sstream>

namespace fs = std::filesystem;

namespace fepflow {

std::mutex& hdf5_mutex() {
  static std::mutex m;
  static const bool quiet = [] {
    // fepflow reports HDF5 failures itself, with the file and dataset named.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)quiet;
  return m;
}

namespace detail {
namespace {

/// Owns an HDF5 identifier and closes it with the matching function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  operator hid_t() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

[[noreturn]] void fail(const std::string& what) { throw Error(what); }

Handle check(Handle h, const std::string& what) {
  if (!h.valid()) fail(what);
  return h;
}

Handle open_file(const std::string& path, unsigned flags) {
  if (H5Fis_hdf5(path.c_str()) <= 0) fail("'" + path + "' is not a readable HDF5 file");
  Handle f(H5Fopen(path.c_str(), flags, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) fail("cannot open HDF5 file '" + path + "'");
  return f;
}

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

void write_string_attribute(hid_t object, const std::string& key, const std::string& value) {
  if (H5Aexists(object, key.c_str()) > 0) H5Adelete(object, key.c_str());
  Handle type = string_type();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a = check(Handle(H5Acreate2(object, key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose),
                   "cannot create attribute '" + key + "'");
  const char* text = value.c_str();
  H5Awrite(a, type, &text);
}

void write_number_attribute(hid_t object, const std::string& key, double value) {
  if (H5Aexists(object, key.c_str()) > 0) H5Adelete(object, key.c_str());
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a = check(Handle(H5Acreate2(object, key.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                          H5Aclose),
                   "cannot create attribute '" + key + "'");
  H5Awrite(a, H5T_NATIVE_DOUBLE, &value);
}

template <class T>
hid_t native_type();
template <> hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <class T>
hid_t file_type();
template <> hid_t file_type<float>() { return H5T_IEEE_F32LE; }
template <> hid_t file_type<double>() { return H5T_IEEE_F64LE; }
template <> hid_t file_type<std::int64_t>() { return H5T_STD_I64LE; }

/// Whether large arrays are chunked and deflated: outputs are where deflate
/// pays (they are kept), checkpoints never (they are transient).
enum class Compression { large_arrays, none };

template <class T>
void write_array(hid_t group, const std::string& name, const xt::xarray<T>& a, Compression compression) {
  const auto& shape = a.shape();
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
               H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  constexpr std::size_t large = 1 << 20;  // bytes: compress arrays above this size
  if (compression == Compression::large_arrays && !dims.empty() && a.size() * sizeof(T) > large) {
    // Chunks of whole rows, about 1 MiB each, so readers of a few rows touch little.
    std::vector<hsize_t> chunk = dims;
    const std::size_t row_bytes = a.size() / dims[0] * sizeof(T);
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(dims[0], large / std::max<std::size_t>(1, row_bytes)));
    if (dims.size() == 1) chunk[0] = std::min<hsize_t>(dims[0], large / sizeof(T));
    const std::size_t chunk_elements = chunk[0] * (a.size() / dims[0]);
    if (deflate_pays(a.data(), chunk_elements, sizeof(T))) {
      H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, 1);
    }
  }
  Handle d = check(Handle(H5Dcreate2(group, name.c_str(), file_type<T>(), space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                          H5Dclose),
                   "cannot create dataset '" + name + "'");
  if (H5Dwrite(d, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data()) < 0)
    fail("cannot write dataset '" + name + "'");
}

void write_value(hid_t group, const std::string& name, const Value& v,
                 Compression compression = Compression::large_arrays) {
  switch (v.dtype()) {
    case DType::float32: write_array(group, name, v.array<float>(), compression); break;
    case DType::float64: write_array(group, name, v.array<double>(), compression); break;
    case DType::int64: write_array(group, name, v.array<std::int64_t>(), compression); break;
    case DType::string: {
      Handle type = string_type();
      Handle space(H5Screate(H5S_SCALAR), H5Sclose);
      Handle d = check(Handle(H5Dcreate2(group, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              H5Dclose),
                       "cannot create dataset '" + name + "'");
      const char* text = v.str().c_str();
      H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text);
      break;
    }
  }
}

template <class T>
Value read_array(hid_t d, const std::vector<std::size_t>& shape) {
  xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
  if (H5Dread(d, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data()) < 0) fail("read failed");
  return Value(std::move(a));
}

std::vector<std::size_t> dataset_shape(hid_t d) {
  Handle space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

/// The Value dtype a dataset is read as, or an empty string for unsupported types.
std::string dataset_dtype(hid_t d) {
  Handle type(H5Dget_type(d), H5Tclose);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT: return H5Tget_size(type) > 4 ? "float64" : "float32";
    case H5T_INTEGER: return "int64";
    case H5T_STRING: return "string";
    default: return "";
  }
}

Value read_dataset(hid_t file, const std::string& path, const std::string& label) {
  if (H5Lexists(file, path.c_str(), H5P_DEFAULT) <= 0) fail(label + ": no dataset '" + path + "'");
  Handle d(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.valid()) fail(label + ": '" + path + "' is not a dataset");
  const auto shape = dataset_shape(d);
  const std::string dtype = dataset_dtype(d);
  try {
    if (dtype == "float32") return read_array<float>(d, shape);
    if (dtype == "float64") return read_array<double>(d, shape);
    if (dtype == "int64") return read_array<std::int64_t>(d, shape);
    if (dtype == "string") {
      if (!shape.empty()) fail("only scalar strings are supported");
      Handle type(H5Dget_type(d), H5Tclose);
      if (H5Tis_variable_str(type) > 0) {
        char* text = nullptr;
        Handle mem = string_type();
        H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text);
        std::string s = text ? text : "";
        H5free_memory(text);
        return Value(s);
      }
      std::string s(H5Tget_size(type), '\0');
      H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data());
      return Value(std::string(s.c_str()));
    }
  } catch (const Error& e) {
    fail(label + ": dataset '" + path + "': " + e.what());
  }
  fail(label + ": dataset '" + path + "' has an unsupported type (expected float, integer or string)");
}

struct AttributeVisit {
  std::map<std::string, std::string>* strings;
  std::map<std::string, double>* numbers;
};

herr_t visit_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto* visit = static_cast<AttributeVisit*>(data);
  Handle a(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(a), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_STRING) {
    std::string value;
    if (H5Tis_variable_str(type) > 0) {
      char* text = nullptr;
      Handle mem = string_type();
      H5Aread(a, mem, &text);
      value = text ? text : "";
      H5free_memory(text);
    } else {
      std::string s(H5Tget_size(type), '\0');
      H5Aread(a, type, s.data());
      value = s.c_str();
    }
    (*visit->strings)[name] = value;
  } else if (cls == H5T_FLOAT || cls == H5T_INTEGER) {
    Handle space(H5Aget_space(a), H5Sclose);
    if (H5Sget_simple_extent_npoints(space) == 1) {
      double x = 0;
      H5Aread(a, H5T_NATIVE_DOUBLE, &x);
      (*visit->numbers)[name] = x;
    }
  }
  return 0;
}

void read_attributes(hid_t object, std::map<std::string, std::string>& strings, std::map<std::string, double>& numbers) {
  AttributeVisit visit{&strings, &numbers};
  hsize_t index = 0;
  H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, visit_attribute, &visit);
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

std::vector<std::string> links(hid_t group) {
  std::vector<std::string> names;
  hsize_t index = 0;
  // Creation order is not tracked by default; name order is stable and what h5ls shows.
  H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_link, &names);
  return names;
}

H5O_type_t object_type(hid_t loc, const std::string& name) {
  H5O_info_t info;
  if (H5Oget_info_by_name(loc, name.c_str(), &info, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
  return info.type;
}

void sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// Copies src to dst (a new file), durably.
void copy_file(const std::string& src, const std::string& dst) {
  const int in = ::open(src.c_str(), O_RDONLY);
  if (in < 0) fail("cannot read '" + src + "': " + std::strerror(errno));
  const int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) {
    ::close(in);
    fail("cannot write '" + dst + "': " + std::strerror(errno));
  }
  struct stat st {};
  ::fstat(in, &st);
  off_t left = st.st_size;
  bool ok = true;
  while (left > 0) {
    const ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, static_cast<size_t>(left), 0);
    if (n <= 0) {
      ok = false;
      break;
    }
    left -= n;
  }
  ok = ok && ::fsync(out) == 0;
  ::close(in);
  ::close(out);
  if (!ok) {
    ::unlink(dst.c_str());
    fail("cannot copy '" + src + "' to '" + dst + "': " + std::strerror(errno));
  }
}

std::string hidden_sibling(const std::string& output, const std::string& tag) {
  const fs::path p(output);
  return (p.parent_path() / ("." + p.filename().string() + "." + tag + "-" + std::to_string(::getpid()))).string();
}

/// Removes working files that runs killed earlier left behind.
void remove_stale_files(const std::string& output) {
  const fs::path p(output);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  const std::string prefix = "." + p.filename().string() + ".";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const auto dash = name.rfind('-');
    if (dash == std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + dash + 1));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

}  // namespace

bool deflate_pays(const void* chunk, std::size_t elements, std::size_t element_size) {
  constexpr double worth_it = 1.25;  // input / output
  const std::size_t bytes = elements * element_size;
  std::vector<unsigned char> shuffled(bytes);
  const auto* in = static_cast<const unsigned char*>(chunk);
  for (std::size_t i = 0; i < elements; ++i)
    for (std::size_t b = 0; b < element_size; ++b) shuffled[b * elements + i] = in[i * element_size + b];
  uLongf packed_size = compressBound(static_cast<uLong>(bytes));
  std::vector<unsigned char> packed(packed_size);
  if (compress2(packed.data(), &packed_size, shuffled.data(), static_cast<uLong>(bytes), 1) != Z_OK) return true;
  return static_cast<double>(bytes) >= worth_it * static_cast<double>(packed_size);
}

const StoredStage* StoredRun::find(const std::string& stage) const {
  for (const auto& s : stages)
    if (s.name == stage) return &s;
  return nullptr;
}

StoredRun read_run(const std::string& file) {
  std::lock_guard lock(hdf5_mutex());
  Handle f = open_file(file, H5F_ACC_RDONLY);
  StoredRun run;
  std::map<std::string, double> root_numbers;
  read_attributes(f, run.attributes, root_numbers);
  for (const auto& [key, value] : root_numbers) run.attributes[key] = std::to_string(value);
  for (const auto& name : links(f)) {
    if (object_type(f, name) != H5O_TYPE_GROUP) continue;
    Handle g(H5Gopen2(f, name.c_str(), H5P_DEFAULT), H5Gclose);
    StoredStage s;
    s.name = name;
    std::map<std::string, double> numbers;
    read_attributes(g, s.attributes, numbers);
    for (const auto& [key, value] : numbers) {
      if (key.rfind("metric.", 0) == 0)
        s.metrics[key.substr(7)] = value;
      else
        s.numbers[key] = value;
    }
    for (const auto& port : links(g)) {
      if (object_type(g, port) != H5O_TYPE_DATASET) continue;
      Handle d(H5Dopen2(g, port.c_str(), H5P_DEFAULT), H5Dclose);
      std::string text = dataset_dtype(d);
      const auto shape = dataset_shape(d);
      if (text != "string") {
        text += "[";
        for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
        text += "]";
      }
      s.datasets.emplace_back(port, text);
    }
    run.stages.push_back(std::move(s));
  }
  // Pipeline order (producers first) when the file says it; name order otherwise.
  std::istringstream order(run.attributes["stage_order"]);
  std::vector<std::string> names{std::istream_iterator<std::string>(order), std::istream_iterator<std::string>()};
  auto rank = [&](const StoredStage& s) {
    return static_cast<std::size_t>(std::find(names.begin(), names.end(), s.name) - names.begin());
  };
  std::stable_sort(run.stages.begin(), run.stages.end(),
                   [&](const StoredStage& a, const StoredStage& b) { return rank(a) < rank(b); });
  return run;
}

Value read_output(const std::string& file, const std::string& stage, const std::string& port) {
  std::lock_guard lock(hdf5_mutex());
  Handle f = open_file(file, H5F_ACC_RDONLY);
  return read_dataset(f, "/" + stage + "/" + port, "'" + file + "'");
}

WorkFile::WorkFile(std::string output, const std::map<std::string, std::string>& root_attributes)
    : output_(std::move(output)) {
  const fs::path parent = fs::path(output_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) fail("cannot create the output folder '" + parent.string() + "': " + ec.message());
  }
  remove_stale_files(output_);
  work_ = hidden_sibling(output_, "work");
  std::lock_guard lock(hdf5_mutex());
  Handle f(H5Fcreate(work_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) fail("cannot create '" + work_ + "' beside the output file");
  for (const auto& [key, value] : root_attributes) write_string_attribute(f, key, value);
}

WorkFile::~WorkFile() {
  std::error_code ec;
  fs::remove(work_, ec);
}

void WorkFile::copy_stage(const std::string& previous_file, const std::string& stage, const std::string& state) {
  std::lock_guard lock(hdf5_mutex());
  Handle src = open_file(previous_file, H5F_ACC_RDONLY);
  Handle dst = open_file(work_, H5F_ACC_RDWR);
  const std::string path = "/" + stage;
  if (H5Ocopy(src, path.c_str(), dst, path.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
    fail("cannot copy stage '" + stage + "' from '" + previous_file + "'");
  Handle g(H5Gopen2(dst, path.c_str(), H5P_DEFAULT), H5Gclose);
  write_string_attribute(g, "state", state);
}

void WorkFile::write_stage(const std::string& stage, const StageData& data) {
  std::lock_guard lock(hdf5_mutex());
  Handle f = open_file(work_, H5F_ACC_RDWR);
  const std::string path = "/" + stage;
  // Written under a temporary name and renamed when complete, so a failed
  // write (a full disk) never leaves a partial stage behind.
  const std::string partial = "/.partial." + stage;
  try {
    Handle g = check(Handle(H5Gcreate2(f, partial.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose),
                     "cannot create group '" + path + "' in '" + work_ + "'");
    for (const auto& [key, value] : data.attributes) write_string_attribute(g, key, value);
    for (const auto& [key, value] : data.numbers) write_number_attribute(g, key, value);
    for (const auto& [key, value] : data.metrics) write_number_attribute(g, "metric." + key, value);
    for (const auto& [port, value] : data.outputs) write_value(g, port, *value);
  } catch (...) {
    H5Ldelete(f, partial.c_str(), H5P_DEFAULT);
    replaced_any_ = true;  // the deleted space is reclaimed by compaction
    throw;
  }
  if (H5Lexists(f, path.c_str(), H5P_DEFAULT) > 0) {
    H5Ldelete(f, path.c_str(), H5P_DEFAULT);
    replaced_any_ = true;
  }
  if (H5Lmove(f, partial.c_str(), f, path.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
    fail("cannot store stage '" + stage + "' in '" + work_ + "'");
}

void WorkFile::set_root_attribute(const std::string& key, const std::string& value) {
  std::lock_guard lock(hdf5_mutex());
  Handle f = open_file(work_, H5F_ACC_RDWR);
  write_string_attribute(f, key, value);
}

void WorkFile::publish() {
  std::lock_guard lock(hdf5_mutex());
  const std::string staged = hidden_sibling(output_, "publish");
  copy_file(work_, staged);
  if (std::rename(staged.c_str(), output_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(staged.c_str());
    fail("cannot replace '" + output_ + "': " + why);
  }
  const std::string dir = fs::path(output_).parent_path().string();
  sync_path(dir.empty() ? "." : dir);
}

void WorkFile::publish_compacted() {
  if (replaced_any_) {
    // HDF5 does not reuse the space of deleted groups: rewrite into a fresh file.
    std::lock_guard lock(hdf5_mutex());
    const std::string compact = hidden_sibling(output_, "compact");
    {
      Handle src = open_file(work_, H5F_ACC_RDONLY);
      Handle dst(H5Fcreate(compact.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
      if (!dst.valid()) fail("cannot create '" + compact + "'");
      std::map<std::string, std::string> strings;
      std::map<std::string, double> numbers;
      read_attributes(src, strings, numbers);
      for (const auto& [key, value] : strings) write_string_attribute(dst, key, value);
      for (const auto& name : links(src)) {
        const std::string path = "/" + name;
        if (H5Ocopy(src, path.c_str(), dst, path.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
          fail("cannot compact '" + work_ + "'");
      }
    }
    if (std::rename(compact.c_str(), work_.c_str()) != 0) fail("cannot replace '" + work_ + "'");
    replaced_any_ = false;
  }
  publish();
}

std::string checkpoint_path(const std::string& output, const std::string& stage) {
  return output + ".checkpoints/" + stage + ".h5";
}

// The checkpoint folder is made by the first save and removed with the last
// checkpoint; stages save and finish concurrently, so both hold this lock.
namespace {
std::mutex& checkpoint_folder_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

void save_checkpoint_file(const std::string& path, const std::string& fingerprint, const Checkpoint& state) {
  std::lock_guard folder_lock(checkpoint_folder_mutex());
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string staged = path + ".tmp-" + std::to_string(::getpid());
  {
    std::lock_guard lock(hdf5_mutex());
    Handle f(H5Fcreate(staged.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!f.valid()) fail("cannot create checkpoint '" + staged + "'");
    write_string_attribute(f, "fingerprint", fingerprint);
    for (const auto& [key, value] : state) write_value(f, key, value, Compression::none);
  }
  sync_path(staged);
  if (std::rename(staged.c_str(), path.c_str()) != 0) fail("cannot write checkpoint '" + path + "'");
}

std::optional<Checkpoint> load_checkpoint_file(const std::string& path, const std::string& fingerprint) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::lock_guard lock(hdf5_mutex());
  if (H5Fis_hdf5(path.c_str()) <= 0) return std::nullopt;
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) return std::nullopt;
  std::map<std::string, std::string> strings;
  std::map<std::string, double> numbers;
  read_attributes(f, strings, numbers);
  if (strings["fingerprint"] != fingerprint) return std::nullopt;
  Checkpoint state;
  for (const auto& name : links(f)) state[name] = read_dataset(f, name, "checkpoint '" + path + "'");
  return state;
}

void remove_checkpoint_file(const std::string& output, const std::string& stage) {
  std::lock_guard folder_lock(checkpoint_folder_mutex());
  std::error_code ec;
  const fs::path path = checkpoint_path(output, stage);
  fs::remove(path, ec);
  fs::remove(path.parent_path(), ec);  // only succeeds once empty
}

}  // namespace detail

Value read_hdf5_dataset(const std::string& file, const std::string& dataset) {
  std::lock_guard lock(hdf5_mutex());
  std::error_code ec;
  if (!fs::exists(file, ec)) throw Error("HDF5 file '" + file + "' does not exist");
  detail::Handle f = detail::open_file(file, H5F_ACC_RDONLY);
  return detail::read_dataset(f, dataset, "'" + file + "'");
}

}  // namespace fepflow
