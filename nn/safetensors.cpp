#include <adgraph/nn/safetensors.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <numeric>
#include <set>
#include <stdexcept>
#include <system_error>
#include <tuple>

#include <nlohmann/json.hpp>

#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/message_text.hpp>
#include <adgraph/nn/regular_file.hpp>

namespace adg::nn {

namespace {

using nlohmann::json;

// Tensor bytes are copied as they are, so the host must store numbers the way the format does: little-endian
// IEEE 754, row-major. A big-endian port would have to byte-swap in both directions.
#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__)
#error "adgraph's safetensors I/O needs __BYTE_ORDER__ to check that the host is little-endian"
#endif
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "adgraph's safetensors I/O supports little-endian hosts only (the format is little-endian)");
static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "safetensors F32/F64 are IEEE 754 binary32/binary64");
static_assert(xt::xarray<float>::static_layout == xt::layout_type::row_major &&
                  xt::xarray<double>::static_layout == xt::layout_type::row_major,
              "safetensors data is row-major; Array's xt::xarray must be too");

// The reference implementation's limit: a larger header is a corrupt length field, not a real header.
constexpr std::uint64_t max_header_bytes = 100'000'000;
constexpr const char* metadata_key = "__metadata__";

std::string errno_message(int e) { return std::generic_category().message(e); }
// Names come from the file: escaped and clipped, so a hostile one cannot garble the terminal or flood the log.
std::string in_quotes(const std::string& s) { return "'" + message_text(s) + "'"; }
// A path from the user: escaped too, but shown whole (up to PATH_MAX), since it says which file is meant.
std::string path_in_quotes(const std::string& path) { return "'" + message_text(path, 4096) + "'"; }
// A message of the JSON library, which may quote the header's bytes.
std::string library_text(const char* what) { return message_text(what, 300); }
std::string num(std::uint64_t v) { return std::to_string(v); }
// "cannot allocate N bytes <what>: out of memory; ..." for a reader whose allocation failed.
std::string out_of_memory(std::uint64_t bytes, const std::string& what) {
    return "cannot allocate " + num(bytes) + " bytes " + what +
           ": out of memory; free memory or raise the memory limit (ulimit -v)";
}
std::size_t itemsize(Dtype d) { return d == Dtype::f32 ? 4 : 8; }
const char* format_dtype(Dtype d) { return d == Dtype::f32 ? "F32" : "F64"; }

}  // namespace

namespace {

// The one encoding of a safetensors file, for save_safetensors and safetensors_bytes, in two parts: the length and
// header (checking everything that can be refused, messages starting with `where`) and the tensors' data in the
// order they are laid out.
struct Layout {
    std::string head;  // 8-byte length and the padded JSON header
    std::vector<std::size_t> order;
};

Layout safetensors_layout(const std::string& where, const NamedArrays& tensors, const Metadata& metadata) {
    std::set<std::string> names;
    for (const auto& [name, array] : tensors) {
        if (name == metadata_key) {
            throw value_error(where +
                              "the tensor name \"__metadata__\" is reserved for the metadata; rename the tensor");
        }
        if (!names.insert(name).second) {
            throw value_error(where + "the tensor name " + in_quotes(name) + " appears twice; names must be unique");
        }
    }

    // float64 first: the data buffer starts at a multiple of 8, so every tensor is then aligned to its item size.
    std::vector<std::size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_partition(order.begin(), order.end(), [&](std::size_t i) { return tensors[i].second.dtype() == f64; });

    json header = json::object();
    std::uint64_t offset = 0;
    for (const std::size_t i : order) {
        const Array& a = tensors[i].second;
        const std::uint64_t bytes = a.size() * itemsize(a.dtype());
        json shape = json::array();
        for (const std::size_t d : a.shape()) shape.push_back(static_cast<std::uint64_t>(d));
        json offsets = json::array({offset, offset + bytes});
        header[tensors[i].first] = {{"dtype", format_dtype(a.dtype())}, {"shape", shape}, {"data_offsets", offsets}};
        offset += bytes;
    }
    if (!metadata.empty()) header[metadata_key] = metadata;
    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception& e) {
        throw value_error(where + "a tensor name or metadata string is not valid UTF-8 (" + library_text(e.what()) +
                          ")");
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    unsigned char length[8];
    for (int b = 0; b < 8; ++b)
        length[b] = static_cast<unsigned char>(static_cast<std::uint64_t>(text.size()) >> (8 * b));

    return {std::string(reinterpret_cast<const char*>(length), sizeof length) + text, std::move(order)};
}

void write_safetensors(const Layout& layout, const NamedArrays& tensors,
                       const std::function<void(const void*, std::size_t)>& sink) {
    sink(layout.head.data(), layout.head.size());
    for (const std::size_t i : layout.order) {
        tensors[i].second.visit([&](const auto& a) {
            if (a.size() > 0) sink(a.data(), a.size() * sizeof(*a.data()));
        });
    }
}

}  // namespace

void save_safetensors(const std::string& path, const NamedArrays& tensors, const Metadata& metadata) {
    const std::string where = "save_safetensors: " + path_in_quotes(path) + ": ";
    // Everything that can be refused is checked before the temporary file exists.
    const Layout layout = safetensors_layout(where, tensors, metadata);
    try {
        write_file_atomically(path, [&](const AtomicFileWriter& w) {
            write_safetensors(layout, tensors, [&](const void* p, std::size_t n) { w.write(p, n); });
        });
    } catch (const io_error& e) {
        throw io_error("save_safetensors: " + std::string(e.what()));
    }
}

std::string safetensors_bytes(const NamedArrays& tensors, const Metadata& metadata) {
    const Layout layout = safetensors_layout("safetensors_bytes: ", tensors, metadata);
    std::string out;
    write_safetensors(layout, tensors,
                      [&](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); });
    return out;
}

namespace {

std::string read_whole_file(const std::string& path, const std::string& where) {
    const int fd = open_regular_file(path, where);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        throw io_error(where + "cannot stat the file: " + errno_message(e));
    }
    std::string bytes;
    try {
        bytes.resize(static_cast<std::size_t>(st.st_size));
    } catch (const std::bad_alloc&) {
        throw io_error(where + out_of_memory(static_cast<std::uint64_t>(st.st_size), "to read the file"));
    } catch (const std::length_error&) {
        throw io_error(where + out_of_memory(static_cast<std::uint64_t>(st.st_size), "to read the file"));
    }
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t r = ::read(fd, &bytes[got], bytes.size() - got);
        const int e = errno;
        if (r < 0 && e == EINTR) continue;
        if (r < 0) throw io_error(where + "cannot read the file: " + errno_message(e));
        if (r == 0) throw io_error(where + "the file shrank while it was read (another process is writing it?)");
        got += static_cast<std::size_t>(r);
    }
    return bytes;
}

// One tensor's header entry, validated on its own (coverage of the buffer is checked across entries).
struct Entry {
    std::string name;
    Dtype dtype;
    Shape shape;
    std::uint64_t begin, end;
};

// Where show() stops descending and stops writing.
constexpr int show_depth = 8;
constexpr std::size_t show_chars = 512;

void show_into(const json& j, std::string& out, int depth) {
    if (!j.is_structured()) {
        out += j.dump();
        return;
    }
    const bool array = j.is_array();
    if (depth == show_depth && !j.empty()) {
        out += array ? "[...]" : "{...}";
        return;
    }
    out += array ? '[' : '{';
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it != j.begin()) out += ',';
        if (out.size() > show_chars) {
            out += "...";
            break;
        }
        if (!array) out += json(it.key()).dump() + ':';
        show_into(it.value(), out, depth + 1);
    }
    out += array ? ']' : '}';
}

// A JSON value as compact text for messages. Not json::dump(): it recurses once per nesting level, so a header
// nesting arrays 100000 deep overflowed the stack; here depth and length are bounded.
std::string show(const json& j) {
    std::string out;
    show_into(j, out, 0);
    return message_text(out, show_chars);
}

// A non-negative JSON integer ("-0" parses as a signed zero).
bool as_count(const json& j, std::uint64_t& out) {
    if (!j.is_number_integer() || (!j.is_number_unsigned() && j.get<std::int64_t>() < 0)) return false;
    out = j.is_number_unsigned() ? j.get<std::uint64_t>() : 0;
    return true;
}

Entry parse_entry(const std::string& name, const json& v, const std::string& where) {
    const std::string at = where + "tensor " + in_quotes(name) + ": ";
    if (!v.is_object()) {
        throw io_error(at + "the entry is a JSON " + v.type_name() +
                       ", expected an object with \"dtype\", \"shape\" and \"data_offsets\"");
    }
    // Other fields are ignored, as the reference implementation does, so files from other writers still load.
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
        if (!v.contains(field)) throw io_error(at + "the entry has no \"" + field + "\"; the file is corrupt");
    }
    Entry e{name, Dtype::f32, {}, 0, 0};
    const json& dtype = v["dtype"];
    if (!dtype.is_string()) throw io_error(at + "\"dtype\" is " + show(dtype) + ", expected a string such as \"F32\"");
    const std::string d = dtype.get<std::string>();
    if (d != "F32" && d != "F64") {
        throw io_error(at + "dtype " + message_text(d) +
                       " is not supported (float32/float64 only); convert it to F32 or F64 first");
    }
    e.dtype = d == "F32" ? Dtype::f32 : Dtype::f64;

    const json& shape = v["shape"];
    if (!shape.is_array()) throw io_error(at + "\"shape\" is " + show(shape) + ", expected an array of sizes");
    std::uint64_t numel = 1;
    bool overflow = false;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        std::uint64_t n = 0;
        if (!as_count(shape[i], n)) {
            throw io_error(at + "shape entry " + num(i) + " is " + show(shape[i]) +
                           ", expected a non-negative integer");
        }
        overflow = overflow || (n != 0 && numel > std::numeric_limits<std::uint64_t>::max() / n);
        numel *= n;
        e.shape.push_back(static_cast<std::size_t>(n));
    }
    const std::size_t size = itemsize(e.dtype);
    if (overflow || numel > std::numeric_limits<std::uint64_t>::max() / size) {
        throw io_error(at + "shape " + show(shape) + " holds more bytes than 2^64; the file is corrupt");
    }

    const json& offsets = v["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !as_count(offsets[0], e.begin) || !as_count(offsets[1], e.end)) {
        throw io_error(at + "\"data_offsets\" is " + show(offsets) +
                       ", expected [begin, end] (two non-negative byte offsets)");
    }
    if (e.begin > e.end) {
        throw io_error(at + "\"data_offsets\" " + show(offsets) + " ends before it begins; the file is corrupt");
    }
    if (e.end - e.begin != numel * size) {
        throw io_error(at + "\"data_offsets\" " + show(offsets) + " span " + num(e.end - e.begin) +
                       " bytes but dtype " + d + " and shape " + message_text(shape_str(e.shape)) + " need " +
                       num(numel * size) + "; the file is corrupt");
    }
    return e;
}

// Builds the header's JSON value as nlohmann's DOM parser does, refusing a duplicate key as it arrives (the spec
// forbids them; nlohmann would keep the last silently). Not json::parse with a callback: its callback parser
// scans the enclosing object for discarded values after every nested object ends, so a header of n tensors
// took O(n^2) time (100000 tensors: minutes). Here each key costs one map lookup.
class HeaderBuilder {
public:
    explicit HeaderBuilder(const std::string& where) : where_(where) {}
    json root;

    bool null() { return put(nullptr); }
    bool boolean(bool v) { return put(v); }
    bool number_integer(json::number_integer_t v) { return put(v); }
    bool number_unsigned(json::number_unsigned_t v) { return put(v); }
    bool number_float(json::number_float_t v, const json::string_t&) { return put(v); }
    bool string(json::string_t& v) { return put(std::move(v)); }
    bool binary(json::binary_t& v) { return put(json::binary(std::move(v))); }
    bool start_object(std::size_t) { return open(json::object()); }
    bool start_array(std::size_t) { return open(json::array()); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(json::string_t& k) {
        json::object_t& object = open_.back()->get_ref<json::object_t&>();
        const bool top = open_.size() == 1;
        if (top) tensor_ = k;
        const auto [it, inserted] = object.emplace(std::move(k), nullptr);
        if (!inserted) {
            throw io_error(
                where_ +
                (top ? "the header has the key " + in_quotes(it->first) + " twice"
                     : "the entry of " + in_quotes(tensor_) + " has the key " + in_quotes(it->first) + " twice") +
                "; keys must be unique");
        }
        slot_ = &it->second;
        return true;
    }
    // The parser's own exception (parse_error, out_of_range, ...), thrown with its type for parse_header.
    template <class Exception>
    bool parse_error(std::size_t, const std::string&, const Exception& e) {
        throw e;
    }

private:
    // Stores `v` where the parser is (the root, the next array element or the value of the last key) and returns
    // where it went. Pointers to open containers stay valid: only the innermost one grows.
    json* place(json v) {
        if (open_.empty()) {
            root = std::move(v);
            return &root;
        }
        json& parent = *open_.back();
        if (parent.is_array()) {
            parent.get_ref<json::array_t&>().push_back(std::move(v));
            return &parent.get_ref<json::array_t&>().back();
        }
        *slot_ = std::move(v);
        return slot_;
    }
    bool put(json v) {
        place(std::move(v));
        return true;
    }
    bool open(json v) {
        open_.push_back(place(std::move(v)));
        return true;
    }
    bool close() {
        open_.pop_back();
        return true;
    }

    const std::string& where_;
    std::vector<json*> open_;  // the objects and arrays being filled, outermost first
    json* slot_ = nullptr;     // the value of the key just read
    std::string tensor_;       // the top-level key being parsed, for messages
};

// Parses the header in one pass, rejecting duplicate keys; JSON errors become io_error with the file offset.
json parse_header(const char* first, const char* last, const std::string& where) {
    HeaderBuilder builder(where);
    try {
        json::sax_parse(first, last, &builder);
        return std::move(builder.root);
    } catch (const json::parse_error& e) {
        throw io_error(where + "the header is not valid JSON (error at file offset " + num(7 + e.byte) +
                       "): " + library_text(e.what()) + "; the file is corrupt or not a safetensors file");
    } catch (const json::out_of_range& e) {
        // A number too large for a double ("1e999"). nlohmann gives no position for it, only the number's text,
        // which is searched for in the header to name the offset.
        const std::string what = e.what();
        const std::size_t open = what.find("parsing '");
        std::string at;
        if (open != std::string::npos && what.back() == '\'') {
            const std::string token = what.substr(open + 9, what.size() - open - 10);
            const char* hit = std::search(first, last, token.begin(), token.end());
            if (!token.empty() && hit != last) {
                at = " at file offset " + num(8 + static_cast<std::uint64_t>(hit - first));
            }
        }
        throw io_error(where + "the header holds a number too large to represent" + at + " (" +
                       library_text(what.c_str()) + "); the file is corrupt or not a safetensors file");
    } catch (const json::exception& e) {
        throw io_error(where + "the header cannot be parsed as JSON (" + library_text(e.what()) +
                       "); the file is corrupt or not a safetensors file");
    }
}

}  // namespace

namespace {

SafetensorsFile read_safetensors(const std::string& path, const std::string& where) {
    const std::string bytes = read_whole_file(path, where);
    const std::uint64_t file_size = bytes.size();
    if (file_size < 8) {
        throw io_error(where + "the file is " + num(file_size) +
                       " bytes, shorter than the 8-byte header length that starts a safetensors file; the file is "
                       "truncated or not a safetensors file");
    }
    std::uint64_t header_size = 0;
    for (int b = 7; b >= 0; --b) header_size = (header_size << 8) | static_cast<unsigned char>(bytes[b]);
    if (header_size > max_header_bytes) {
        throw io_error(where + "the header length at file offset 0 is " + num(header_size) + " bytes, more than the " +
                       num(max_header_bytes) + "-byte limit; the file is corrupt or not a safetensors file");
    }
    if (header_size > file_size - 8) {
        throw io_error(where + "the file is truncated: the header length at file offset 0 says " + num(header_size) +
                       " bytes of header, found " + num(file_size - 8) + "; re-save the checkpoint");
    }
    const char* header_begin = bytes.data() + 8;
    const json header = parse_header(header_begin, header_begin + header_size, where);
    if (!header.is_object()) {
        throw io_error(where + "the header is a JSON " + std::string(header.type_name()) +
                       ", expected an object mapping tensor names to {dtype, shape, data_offsets}");
    }

    SafetensorsFile out;
    std::vector<Entry> entries;
    for (const auto& [name, value] : header.items()) {
        if (name != metadata_key) {
            entries.push_back(parse_entry(name, value, where));
            continue;
        }
        if (!value.is_object()) {
            throw io_error(where + "\"__metadata__\" is " + show(value) + ", expected an object of strings");
        }
        for (const auto& [key, text] : value.items()) {
            if (!text.is_string()) {
                throw io_error(where + "\"__metadata__\" value of " + in_quotes(key) + " is " + show(text) +
                               ", expected a string (metadata values must be strings)");
            }
            out.metadata[key] = text.get<std::string>();
        }
    }

    // The tensors must tile the data buffer exactly: no byte outside it, no gap, no overlap.
    const std::uint64_t data_start = 8 + header_size;
    const std::uint64_t data_size = file_size - data_start;
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
    });
    if (!entries.empty()) {
        const Entry& last = *std::max_element(entries.begin(), entries.end(),
                                              [](const Entry& a, const Entry& b) { return a.end < b.end; });
        if (last.end > data_size) {
            throw io_error(where + "the file is truncated: the header says " + num(last.end) +
                           " bytes of data (tensor " + in_quotes(last.name) + " ends there), found " + num(data_size) +
                           "; re-save the checkpoint");
        }
    }
    std::uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry& e : entries) {
        if (e.begin < covered) {
            throw io_error(where + "tensors " + in_quotes(previous->name) + " and " + in_quotes(e.name) +
                           " overlap: " + in_quotes(e.name) + " starts at data offset " + num(e.begin) +
                           " (file offset " + num(data_start + e.begin) + ") inside " + in_quotes(previous->name) +
                           " [" + num(previous->begin) + ", " + num(previous->end) + "); the file is corrupt");
        }
        if (e.begin > covered) {
            throw io_error(where + "data bytes [" + num(covered) + ", " + num(e.begin) + ") (file offset " +
                           num(data_start + covered) + ") before tensor " + in_quotes(e.name) +
                           " belong to no tensor; the file is corrupt");
        }
        covered = e.end;
        previous = &e;
    }
    if (covered != data_size) {
        throw io_error(where + "data bytes [" + num(covered) + ", " + num(data_size) + ") (file offset " +
                       num(data_start + covered) +
                       ") at the end of the file belong to no tensor; the file is corrupt or has trailing bytes");
    }

    // Only now, with every size checked against the file, are arrays allocated.
    const char* data = bytes.data() + data_start;
    for (const Entry& e : entries) {
        Array a;
        try {
            a = Array::empty(e.shape, e.dtype);
        } catch (error& x) {
            x.add_context(where + "tensor " +
                          in_quotes(e.name));  // "Array::empty: out of memory ..." alone names no file
            throw;
        }
        a.visit_mut([&](auto& x) {
            if (x.size() > 0) std::memcpy(x.data(), data + e.begin, e.end - e.begin);
        });
        out.tensors.emplace_back(e.name, std::move(a));
    }
    return out;
}

}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
    const std::string where = "load_safetensors: " + path_in_quotes(path) + ": ";
    try {
        return read_safetensors(path, where);
    } catch (const std::bad_alloc&) {
        // Parsing the header or keeping the names ran out; the file's size is what memory must hold about twice.
        struct stat st {};
        const std::uint64_t size = ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
        throw io_error(where + "out of memory while loading the file (" + num(size) +
                       " bytes); free memory or raise the memory limit (ulimit -v)");
    }
}

}  // namespace adg::nn
