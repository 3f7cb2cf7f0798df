#include <adgraph/nn/idx.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <new>
#include <utility>

#include <adgraph/nn/atomic_file.hpp>
#include <adgraph/nn/regular_file.hpp>
#include <adgraph/tensor/error.hpp>

namespace adg::nn {

namespace {

// Large enough that zlib's per-call overhead vanishes, small enough that a stream which ends early has not made
// us allocate much more than it delivered.
constexpr std::size_t read_chunk = std::size_t{1} << 20;

std::string hex_byte(unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", v & 0xFFu);
    return buf;
}

std::string dims_str(const std::vector<std::size_t>& dims) {
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
    return s;
}

std::string plural(std::uint64_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

// "but only 1 follows", "but only 50 follow".
std::string follow(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " follows" : " follow"); }

[[noreturn]] void fail_at(const std::string& path, std::uint64_t offset, const std::string& what) {
    throw io_error(path + ": byte " + std::to_string(offset) + ": " + what);
}

// The compressed bytes read from the file at a time.
constexpr std::size_t gz_in_chunk = std::size_t{1} << 17;

// A plain file or a gzip stream, read sequentially; counts the uncompressed bytes delivered so far.
// The gzip stream is decoded with zlib's inflate rather than gzread, which silently skips anything after the
// last member's trailer: here members that follow one another are read as one stream (as gzip -d does), and any
// other bytes after a trailer are an error.
class Input {
public:
    explicit Input(const std::string& path) : path_(path), fd_(open_regular_file(path, path + ": ")) {
        struct stat st {};
        if (::fstat(fd_, &st) != 0) fail_errno("cannot stat");
        size_ = static_cast<std::uint64_t>(st.st_size);
        unsigned char sig[2] = {0, 0};
        const ssize_t n = ::pread(fd_, sig, 2, 0);
        if (n < 0) fail_errno("read error");
        if (n == 2 && sig[0] == 0x1f && sig[1] == 0x8b) {
            // windowBits 15 + 16: a gzip header and trailer (CRC-32 and length, checked by inflate).
            if (::inflateInit2(&z_, 15 + 16) != Z_OK) {
                errno = ENOMEM;
                fail_errno("cannot start gzip decompression");
            }
            gz_ = true;
            in_.resize(gz_in_chunk);
        }
    }
    Input(const Input&) = delete;
    Input& operator=(const Input&) = delete;
    ~Input() {
        if (gz_) ::inflateEnd(&z_);
        if (fd_ >= 0) ::close(fd_);
    }

    bool gzip() const { return gz_; }
    std::uint64_t offset() const { return offset_; }
    // For a plain file: bytes not yet read (its size is known up front; a gzip stream's is not).
    std::uint64_t raw_remaining() const { return size_ > offset_ ? size_ - offset_ : 0; }
    // What to append to a "the file ends early" message.
    std::string end_note() const {
        return truncated_ ? " (the gzip stream ends before its end marker: the .gz file is truncated)" : "";
    }

    // Reads up to n bytes; fewer only at the end of the stream. Read errors and corrupt gzip data throw.
    std::size_t read(void* buf, std::size_t n) {
        std::size_t got = 0;
        auto* out = static_cast<unsigned char*>(buf);
        while (got < n) {
            const std::size_t want = std::min(n - got, read_chunk);
            const std::size_t r = gz_ ? inflate_some(out + got, want, offset_ + got) : read_raw(out + got, want, got);
            got += r;
            if (r == 0 || truncated_) break;
        }
        offset_ += got;
        return got;
    }

    // Closes the stream; a gzip stream that did not end cleanly is an error even if every byte wanted was read.
    void close() {
        if (gz_ && !ended_) {
            fail_at(path_, offset_, "the gzip stream ends before its end marker: the .gz file is truncated");
        }
        if (fd_ >= 0) {
            const int fd = fd_;
            fd_ = -1;
            ::close(fd);  // read-only: nothing can be lost here
        }
    }

private:
    // Constructor failures: the destructor will not run, so the descriptor (and zlib's state) are released here.
    [[noreturn]] void fail_errno(const char* what) {
        const int e = errno;
        if (gz_) ::inflateEnd(&z_);
        gz_ = false;
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        throw io_error(path_ + ": " + what + ": " + std::strerror(e));
    }

    std::size_t read_raw(unsigned char* out, std::size_t want, std::size_t got) {
        while (true) {
            const ssize_t k = ::read(fd_, out, want);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) fail_at(path_, offset_ + got, std::string("read error: ") + std::strerror(errno));
            return static_cast<std::size_t>(k);
        }
    }

    // Appends the file's next compressed bytes to the unread ones; false at the end of the file.
    bool fill(std::uint64_t at) {
        if (z_.avail_in > 0 && z_.next_in != in_.data()) std::memmove(in_.data(), z_.next_in, z_.avail_in);
        z_.next_in = in_.data();
        while (true) {
            const ssize_t k = ::read(fd_, in_.data() + z_.avail_in, in_.size() - z_.avail_in);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) fail_at(path_, at, std::string("read error: ") + std::strerror(errno));
            z_.avail_in += static_cast<uInt>(k);
            file_pos_ += static_cast<std::uint64_t>(k);
            return k > 0;
        }
    }

    // After a member's trailer: the end of the file, or the next member (which starts 1f 8b). Anything else is
    // refused, naming where it starts in the compressed file.
    void next_member(std::uint64_t at) {
        while (z_.avail_in < 2 && fill(at)) {
        }
        if (z_.avail_in == 0) {
            ended_ = true;
            return;
        }
        if (z_.avail_in < 2 || z_.next_in[0] != 0x1f || z_.next_in[1] != 0x8b) {
            const std::uint64_t junk_at = file_pos_ - z_.avail_in;
            const std::uint64_t junk = size_ > junk_at ? size_ - junk_at : z_.avail_in;
            throw io_error(path_ + ": byte " + std::to_string(junk_at) + " of the compressed file: " +
                           plural(junk, "byte") + " after the end of the gzip data " + (junk == 1 ? "is" : "are") +
                           " not another gzip member; the file must end with its gzip trailer (the copy is damaged "
                           "or was appended to: get a fresh copy)");
        }
        ::inflateReset(&z_);
        in_member_ = true;
    }

    // Decompresses up to `want` bytes into `out`; 0 at the end of the stream or when the file is cut short.
    std::size_t inflate_some(unsigned char* out, std::size_t want, std::uint64_t at) {
        z_.next_out = out;
        z_.avail_out = static_cast<uInt>(want);
        while (z_.avail_out > 0 && !ended_ && !truncated_) {
            if (!in_member_) {
                next_member(at + (want - z_.avail_out));
                continue;
            }
            if (z_.avail_in == 0 && !fill(at + (want - z_.avail_out))) {
                truncated_ = true;  // the file ends inside a member: inflate cannot finish it
                break;
            }
            const int rc = ::inflate(&z_, Z_NO_FLUSH);
            const std::uint64_t here = at + (want - z_.avail_out);
            if (rc == Z_STREAM_END) {
                in_member_ = false;  // the member's CRC-32 and length matched
            } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
                fail_at(path_, here,
                        std::string("the gzip data is corrupt (zlib: ") + (z_.msg ? z_.msg : "invalid data") + ")");
            } else if (rc == Z_MEM_ERROR) {
                fail_at(path_, here, "gzip decompression failed (zlib: out of memory)");
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                fail_at(path_, here, "gzip decompression failed (zlib error " + std::to_string(rc) + ")");
            }
        }
        return want - z_.avail_out;
    }

    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::uint64_t offset_ = 0;
    bool gz_ = false;
    z_stream z_{};
    std::vector<unsigned char> in_;
    std::uint64_t file_pos_ = 0;  // compressed bytes read from the file so far
    bool in_member_ = true;       // inside a gzip member (the first starts at byte 0)
    bool ended_ = false;          // the last member's trailer was read and the file ends there
    bool truncated_ = false;
};

// The IDX element types other than 0x08, for a message that says what the file holds.
const char* other_type_name(unsigned t) {
    static const std::pair<unsigned, const char*> names[] = {
        {0x09, "signed byte"}, {0x0B, "int16"}, {0x0C, "int32"}, {0x0D, "float32"}, {0x0E, "float64"}};
    for (const auto& [code, name] : names) {
        if (code == t) return name;
    }
    return nullptr;
}

}  // namespace

namespace {

IdxArray read_idx_unguarded(const std::string& path) {
    Input in(path);
    const auto header_ends = [&](std::uint64_t need) {
        fail_at(path, in.offset(),
                "the file ends inside the IDX header after " + plural(in.offset(), "byte") + " (the header needs " +
                    std::to_string(need) + ")" + in.end_note());
    };

    unsigned char head[4] = {0, 0, 0, 0};
    const std::size_t got = in.read(head, 4);
    if (got >= 2 && (head[0] != 0 || head[1] != 0)) {
        fail_at(
            path, 0,
            "magic bytes are " + hex_byte(head[0]) + " " + hex_byte(head[1]) + "; an IDX file starts with 0x00 0x00");
    }
    if (got < 4) header_ends(4);
    const unsigned type = head[2];
    if (type != 0x08) {
        if (const char* name = other_type_name(type)) {
            fail_at(path, 2,
                    "unsupported element type " + hex_byte(type) + " (" + name +
                        "); only 0x08 (unsigned byte) is supported");
        }
        fail_at(
            path, 2,
            "invalid type byte " + hex_byte(type) + "; IDX element types are 0x08, 0x09, 0x0B, 0x0C, 0x0D and 0x0E");
    }
    const unsigned ndims = head[3];
    if (ndims == 0 || ndims > 4) {
        fail_at(path, 3, "the header declares " + plural(ndims, "dimension") + "; 1 to 4 are supported");
    }

    const std::uint64_t header_size = 4 + 4 * std::uint64_t{ndims};
    unsigned char raw_dims[16];
    if (in.read(raw_dims, 4 * ndims) < 4 * ndims) header_ends(header_size);
    IdxArray out;
    for (unsigned i = 0; i < ndims; ++i) {
        const unsigned char* b = raw_dims + 4 * i;
        out.dims.push_back((std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | b[3]);
    }
    // Each dimension is < 2^32 and the running product is checked against 2^31 before the next factor, so the
    // 64-bit product cannot overflow.
    std::uint64_t declared = 1;
    for (unsigned i = 0; i < ndims; ++i) {
        if (out.dims[i] == 0) {
            fail_at(path, 4 + 4 * i,
                    "dimension " + std::to_string(i) + " is 0 (dimensions " + dims_str(out.dims) +
                        "); every dimension must be > 0");
        }
        declared *= out.dims[i];
        if (declared > max_idx_payload) {
            fail_at(path, 4 + 4 * i,
                    "the dimensions " + dims_str(out.dims) +
                        " declare more than 2^31 (2147483648) payload bytes, the most read_idx accepts");
        }
    }

    const std::string expected =
        "the header declares " + plural(declared, "payload byte") + " (" + dims_str(out.dims) + ")";
    // A plain file's size is known: a header that claims more than the file holds is rejected before allocating.
    if (!in.gzip() && in.raw_remaining() < declared) {
        fail_at(path, header_size + in.raw_remaining(),
                "the file is truncated: " + expected + " but only " + follow(in.raw_remaining()));
    }
    // The payload must fit in memory; a failed allocation is said with the bytes wanted, not as a bare bad_alloc.
    const auto grow = [&](std::size_t capacity) {
        try {
            out.data.reserve(capacity);
        } catch (const std::bad_alloc&) {
            throw io_error(path + ": cannot allocate " + plural(declared, "byte") + " for the payload (" +
                           dims_str(out.dims) + "): out of memory; free memory or raise the memory limit (ulimit -v)");
        }
    };
    if (!in.gzip()) grow(declared);
    // A gzip stream's length is unknown until it ends, so the buffer grows with the bytes that actually arrive.
    while (out.data.size() < declared) {
        const std::size_t old = out.data.size();
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(declared - old, read_chunk));
        if (out.data.capacity() < old + want) {
            grow(static_cast<std::size_t>(
                std::min<std::uint64_t>(declared, std::max(2 * out.data.capacity(), old + want))));
        }
        out.data.resize(old + want);
        const std::size_t n = in.read(out.data.data() + old, want);
        out.data.resize(old + n);
        if (n < want) {
            fail_at(path, in.offset(),
                    "the file is truncated: " + expected + " but only " + follow(out.data.size()) + in.end_note());
        }
    }

    // Reading on to the end also makes zlib check the gzip trailer (CRC and length) of the data just read.
    std::uint64_t trailing = 0;
    bool at_least = false;
    if (!in.gzip()) {
        trailing = in.raw_remaining();
    } else {
        unsigned char scratch[4096];
        while (std::size_t n = in.read(scratch, sizeof scratch)) {
            trailing += n;
            if (trailing >= read_chunk) {
                at_least = true;
                break;
            }
        }
    }
    if (trailing > 0) {
        fail_at(path, header_size + declared,
                std::string(at_least ? "at least " : "") + plural(trailing, "byte") +
                    (trailing == 1 ? " follows" : " follow") + " the payload; " + expected +
                    " and the file must end there");
    }
    in.close();
    return out;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
    try {
        return read_idx_unguarded(path);
    } catch (const std::bad_alloc&) {
        // The payload's own allocation says its size; this is zlib's or the read buffer's, which are small.
        throw io_error(path +
                       ": out of memory while reading the file; free memory or raise the memory limit "
                       "(ulimit -v)");
    }
}

namespace {

// Streams `parts` through zlib's deflate in gzip framing (level 6, as gzip(1) uses) into `w`, one bounded chunk
// at a time, so a large payload is never held compressed in memory.
void write_gzip(const AtomicFileWriter& w, const std::string& path,
                std::initializer_list<std::pair<const unsigned char*, std::size_t>> parts) {
    z_stream z{};
    // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
    if (::deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw io_error(path + ": cannot start gzip compression (zlib: " + (z.msg ? z.msg : "out of memory") + ")");
    }
    struct End {
        z_stream& z;
        ~End() { ::deflateEnd(&z); }
    } end{z};
    std::vector<unsigned char> out(std::size_t{1} << 17);
    const auto pump = [&](const unsigned char* p, std::size_t n, int flush) {
        do {
            const std::size_t take = std::min(n, read_chunk);
            z.next_in = const_cast<unsigned char*>(p);
            z.avail_in = static_cast<uInt>(take);
            const int f = take == n ? flush : Z_NO_FLUSH;
            do {
                z.next_out = out.data();
                z.avail_out = static_cast<uInt>(out.size());
                const int rc = ::deflate(&z, f);
                if (rc == Z_STREAM_ERROR) throw io_error(path + ": gzip compression failed (zlib stream error)");
                w.write(out.data(), out.size() - z.avail_out);
            } while (z.avail_out == 0);
            p += take;
            n -= take;
        } while (n > 0);
    };
    for (const auto& [p, n] : parts) pump(p, n, Z_NO_FLUSH);
    pump(nullptr, 0, Z_FINISH);
}

}  // namespace

void write_idx(const std::string& path, const IdxArray& a, bool gzip) {
    if (a.dims.empty() || a.dims.size() > 4) {
        throw value_error("write_idx: " + path + ": an IDX array needs 1 to 4 dimensions, got " +
                          std::to_string(a.dims.size()));
    }
    std::uint64_t n = 1;
    for (std::size_t d : a.dims) {
        if (d == 0 || d > std::numeric_limits<std::uint32_t>::max()) {
            throw value_error("write_idx: " + path + ": dimensions " + dims_str(a.dims) +
                              " must each be in 1..4294967295");
        }
        n = n > std::numeric_limits<std::uint64_t>::max() / d ? std::numeric_limits<std::uint64_t>::max() : n * d;
    }
    if (n != a.data.size()) {
        throw value_error("write_idx: " + path + ": dimensions " + dims_str(a.dims) + " need " + plural(n, "byte") +
                          " but the data holds " + std::to_string(a.data.size()));
    }
    std::vector<unsigned char> header = {0, 0, 0x08, static_cast<unsigned char>(a.dims.size())};
    for (std::size_t d : a.dims) {
        for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<unsigned char>(d >> shift));
    }

    try {
        write_file_atomically(path, [&](const AtomicFileWriter& w) {
            if (gzip) {
                write_gzip(w, path, {{header.data(), header.size()}, {a.data.data(), a.data.size()}});
            } else {
                w.write(header.data(), header.size());
                w.write(a.data.data(), a.data.size());
            }
        });
    } catch (const io_error& e) {
        throw io_error("write_idx: " + std::string(e.what()));
    }
}

}  // namespace adg::nn
